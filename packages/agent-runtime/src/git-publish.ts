import type { GitCommit } from '@sandfleet/contracts';
import type { RuntimeEvents } from './event-writer.js';
import { type Git, localReceivePack } from './git.js';
import { GitRefs } from './git-refs.js';
import type { PreparedWorkspace } from './git-workspace.js';

export interface PublishOptions {
  git: Git;
  workspace: PreparedWorkspace;
  events: RuntimeEvents;
  /** The workspace's repository URL, pushed to. */
  repo: string;
  stepId: string;
  agentId: string | undefined;
  runId: string | undefined;
  log: (message: string) => void;
}

/** `sandfleet: step <stepId>`, with the agent and run as trailers. */
export function commitMessage(options: Pick<PublishOptions, 'stepId' | 'agentId' | 'runId'>): string {
  const trailers = [
    ...(options.agentId === undefined ? [] : [`Sandfleet-Agent: ${options.agentId}`]),
    ...(options.runId === undefined ? [] : [`Sandfleet-Run: ${options.runId}`]),
  ];
  const subject = `sandfleet: step ${options.stepId}`;
  return trailers.length === 0 ? subject : `${subject}\n\n${trailers.join('\n')}`;
}

/** What {@link publishWorkspace} did. */
export interface Published {
  /** The runtime's commit, when there was anything to commit. */
  commit?: GitCommit;
  /** The commit pushed (the branch's new tip); undefined when the branch has no commit at all. */
  pushed?: string;
}

/**
 * After a successful command: commits every change in the workspace (when there is any) and
 * pushes HEAD to the workspace's branch, emitting `git.commit` and `git.push`. Commits the
 * command made itself are pushed too.
 */
export async function publishWorkspace(options: PublishOptions): Promise<Published> {
  const { git, workspace, events, log } = options;
  const cwd = workspace.path;
  const branch = workspace.branch;
  if (branch === null) {
    throw new Error(
      'the workspace is on a detached HEAD (ref is a tag or commit): set workspace.branch to push',
    );
  }
  await git.run(['add', '--all'], { cwd });
  const staged = await git.attempt(['diff', '--cached', '--quiet', '--no-ext-diff', '--no-textconv'], {
    cwd,
  });
  let commit: GitCommit | undefined;
  if (staged.code === 1) {
    const message = commitMessage(options);
    await git.run(['commit', '--quiet', '--no-verify', '--file', '-', '--cleanup', 'verbatim'], {
      cwd,
      input: `${message}\n`,
    });
    const sha = await git.run(['rev-parse', 'HEAD'], { cwd });
    commit = { sha, branch, message };
    events.emit('git.commit', commit);
  } else if (staged.code !== 0) {
    throw new Error(`git diff --cached failed: ${staged.stderr.trim()}`);
  }
  const head = await new GitRefs(git, cwd).head();
  if (head === undefined) {
    log('nothing to push: the branch has no commit');
    return commit === undefined ? {} : { commit };
  }
  // To the workspace's URL, not `origin`: the step may have pointed that remote elsewhere.
  const receivePack = localReceivePack(options.repo);
  await git.run(
    [
      'push',
      '--quiet',
      ...(receivePack === undefined ? [] : [`--receive-pack=${receivePack}`]),
      options.repo,
      `HEAD:refs/heads/${branch}`,
    ],
    { cwd, auth: true },
  );
  events.emit('git.push', { branch, sha: head });
  return { ...(commit === undefined ? {} : { commit }), pushed: head };
}
