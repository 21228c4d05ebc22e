import type { Git } from './git.js';

/** Commit identity of the runtime's commits (and, through the repository config, the step's). */
export const GIT_USER_NAME = 'sandfleet-agent';
export const GIT_USER_EMAIL = 'agent@sandfleet.invalid';

/**
 * Branch and ref questions and moves on one repository (a clone or a worktree), after a fetch:
 * remote branches are read from `refs/remotes/origin/*`.
 */
export class GitRefs {
  readonly #git: Git;
  readonly #dir: string;

  constructor(git: Git, dir: string) {
    this.#git = git;
    this.#dir = dir;
  }

  /** The commit `rev` names, or undefined when it names none. */
  async commitOf(rev: string): Promise<string | undefined> {
    const outcome = await this.#git.attempt(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
      cwd: this.#dir,
    });
    return outcome.code === 0 ? outcome.stdout.trim() : undefined;
  }

  hasLocalBranch(branch: string): Promise<boolean> {
    return this.commitOf(`refs/heads/${branch}`).then((sha) => sha !== undefined);
  }

  hasRemoteBranch(branch: string): Promise<boolean> {
    return this.commitOf(`refs/remotes/origin/${branch}`).then((sha) => sha !== undefined);
  }

  /** The checked-out branch; undefined when HEAD is detached. */
  async currentBranch(): Promise<string | undefined> {
    const outcome = await this.#git.attempt(['symbolic-ref', '--quiet', '--short', 'HEAD'], {
      cwd: this.#dir,
    });
    return outcome.code === 0 ? outcome.stdout.trim() : undefined;
  }

  /** The remote's default branch (`origin/HEAD`); undefined for an empty repository. */
  async defaultBranch(): Promise<string | undefined> {
    const outcome = await this.#git.attempt(['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], {
      cwd: this.#dir,
    });
    return outcome.code === 0 ? outcome.stdout.trim().replace(/^refs\/remotes\/origin\//, '') : undefined;
  }

  /**
   * The commit a new branch starts from: `ref` as a remote branch, a tag or a commit (fetched by
   * name when the clone lacks it), or the remote's default branch without a `ref`. Undefined
   * only for an empty repository without a `ref`.
   */
  async startPoint(ref: string | undefined): Promise<string | undefined> {
    if (ref === undefined) {
      const branch = await this.defaultBranch();
      return branch === undefined ? undefined : this.commitOf(`refs/remotes/origin/${branch}`);
    }
    for (const candidate of [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref]) {
      const sha = await this.commitOf(candidate);
      if (sha !== undefined) return sha;
    }
    await this.#git.run(['fetch', '--quiet', 'origin', ref], { cwd: this.#dir, auth: true });
    return this.commitOf('FETCH_HEAD');
  }

  /**
   * Brings the checked-out `branch` up to its remote branch when that only adds commits. When
   * they diverged (or local changes are in the way) the branch is left as it is, with a warning:
   * a later push then fails rather than losing work.
   */
  async fastForward(branch: string, warn: (message: string) => void): Promise<void> {
    if (!(await this.hasRemoteBranch(branch))) return;
    const outcome = await this.#git.attempt(
      ['merge', '--ff-only', '--quiet', `refs/remotes/origin/${branch}`],
      {
        cwd: this.#dir,
      },
    );
    if (outcome.code !== 0) {
      warn(`branch ${branch} could not be fast-forwarded to origin/${branch}: ${outcome.stderr.trim()}`);
    }
  }

  /**
   * Checks out `branch` in a clone: the local branch (fast-forwarded), else a new one tracking the
   * remote branch, else a new one from `ref` (or the default branch; an orphan in an empty repo).
   */
  async checkoutBranch(
    branch: string,
    ref: string | undefined,
    warn: (message: string) => void,
  ): Promise<void> {
    const cwd = this.#dir;
    if (await this.hasLocalBranch(branch)) {
      if ((await this.currentBranch()) !== branch)
        await this.#git.run(['checkout', '--quiet', branch, '--'], { cwd });
      await this.fastForward(branch, warn);
    } else if (await this.hasRemoteBranch(branch)) {
      await this.#git.run(
        ['checkout', '--quiet', '--track', '-b', branch, `refs/remotes/origin/${branch}`, '--'],
        {
          cwd,
        },
      );
    } else {
      const start = await this.startPoint(ref);
      const args = start === undefined ? ['--orphan', branch] : ['--no-track', '-b', branch, start];
      await this.#git.run(['checkout', '--quiet', ...args, '--'], { cwd });
    }
  }

  /** Commit identity in the repository's config (shared by its worktrees). */
  async configureIdentity(): Promise<void> {
    await this.#git.run(['config', 'user.name', GIT_USER_NAME], { cwd: this.#dir });
    await this.#git.run(['config', 'user.email', GIT_USER_EMAIL], { cwd: this.#dir });
  }

  /** The `remote.origin.url` of the repository, or undefined. */
  async originUrl(): Promise<string | undefined> {
    const outcome = await this.#git.attempt(['config', '--get', 'remote.origin.url'], { cwd: this.#dir });
    return outcome.code === 0 ? outcome.stdout.trim() : undefined;
  }

  /** HEAD's commit; undefined on an unborn branch. */
  head(): Promise<string | undefined> {
    return this.commitOf('HEAD');
  }
}
