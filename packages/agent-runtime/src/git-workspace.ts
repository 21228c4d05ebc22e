import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RuntimeWorkspace, StepKind } from '@sandfleet/contracts';
import type { Git } from './git.js';
import { GitRefs } from './git-refs.js';
import { type HomeLayout, taskWorkspacePath } from './home-layout.js';
import type { RuntimeEnv } from './runtime-env.js';

/** A checked-out workspace, ready for the step's command. */
export interface PreparedWorkspace {
  kind: StepKind;
  /** The working tree: the command's working directory. */
  path: string;
  /** The branch checked out (and pushed); null when `ref` was a tag or commit (detached HEAD). */
  branch: string | null;
  /** HEAD's commit; empty for a new branch of an empty repository. */
  sha: string;
}

export interface WorkspaceOptions {
  env: RuntimeEnv & { workspace: RuntimeWorkspace; stepId: string };
  layout: HomeLayout;
  git: Git;
  /** A line for the step's stderr. */
  log: (message: string) => void;
}

/**
 * Prepares the git workspace of the step's kind: for `pipeline`, a full clone in
 * `project-workspace` (fetched when it exists) and a worktree of the run's branch in
 * `run-workspace`; for the other kinds, a clone in `task-workspaces/{taskId}`.
 */
export function prepareWorkspace(options: WorkspaceOptions): Promise<PreparedWorkspace> {
  return options.env.kind === 'pipeline' ? preparePipeline(options) : prepareTaskClone(options);
}

/** The task workspace's id: the task's, a chat's session, else the step's own. */
export function workspaceTaskId(env: RuntimeEnv & { stepId: string }): string {
  return env.taskId ?? (env.kind === 'chat' ? env.chatSessionId : undefined) ?? env.stepId;
}

async function prepareTaskClone(options: WorkspaceOptions): Promise<PreparedWorkspace> {
  const { env, layout, git, log } = options;
  const { repo, ref } = env.workspace;
  const dir = taskWorkspacePath(layout, workspaceTaskId(env));
  await cloneOrFetch(options, dir);
  const refs = new GitRefs(git, dir);
  await refs.configureIdentity();
  const branch =
    env.workspace.branch ??
    (ref === undefined
      ? ((await refs.defaultBranch()) ?? (await refs.currentBranch()))
      : (await refs.hasRemoteBranch(ref))
        ? ref
        : undefined);
  if (branch !== undefined) {
    await refs.checkoutBranch(branch, ref, log);
  } else {
    const sha = await refs.startPoint(ref);
    if (sha === undefined) throw new Error(`ref ${ref} not found in ${repo}`);
    await git.run(['checkout', '--quiet', '--detach', sha, '--'], { cwd: dir });
  }
  return { kind: env.kind, path: dir, branch: branch ?? null, sha: (await refs.head()) ?? '' };
}

async function preparePipeline(options: WorkspaceOptions): Promise<PreparedWorkspace> {
  const { env, layout, git, log } = options;
  const project = layout.projectWorkspace;
  const run = layout.runWorkspace;
  const branch = env.workspace.branch ?? `run/${env.runId}`;
  await cloneOrFetch(options, project, [run]);
  const projectRefs = new GitRefs(git, project);
  // No branch stays checked out in the project clone, so any branch can have the run's worktree
  // (this fails, harmlessly, only in an empty repository).
  await git.attempt(['checkout', '--quiet', '--detach'], { cwd: project });
  await projectRefs.configureIdentity();
  const runRefs = new GitRefs(git, run);
  const existing = (await worktreeBranches(git, project)).get(resolve(run));
  if (existing === branch && (await exists(join(run, '.git')))) {
    await runRefs.fastForward(branch, log);
  } else {
    if (existing !== undefined) {
      log(`replacing the worktree of ${existing ?? 'a detached HEAD'} in ${run} with ${branch}`);
      await git.attempt(['worktree', 'remove', '--force', run], { cwd: project });
    }
    // Whatever is left (a worktree of an earlier clone, files) goes; prune then forgets the
    // worktrees whose directories are gone.
    await emptyDirectory(run);
    await git.run(['worktree', 'prune'], { cwd: project });
    await addWorktree(projectRefs, git, { project, run, branch, ref: env.workspace.ref });
    await runRefs.fastForward(branch, log);
  }
  return { kind: env.kind, path: run, branch, sha: (await runRefs.head()) ?? '' };
}

interface WorktreeTarget {
  project: string;
  run: string;
  branch: string;
  ref: string | undefined;
}

async function addWorktree(refs: GitRefs, git: Git, target: WorktreeTarget): Promise<void> {
  const { project, run, branch, ref } = target;
  let args: string[];
  if (await refs.hasLocalBranch(branch)) {
    args = [run, branch];
  } else if (await refs.hasRemoteBranch(branch)) {
    args = ['--track', '-b', branch, run, `refs/remotes/origin/${branch}`];
  } else {
    const start = await refs.startPoint(ref);
    if (start === undefined)
      throw new Error('the repository is empty: a pipeline needs a commit to branch from');
    args = ['--no-track', '-b', branch, run, start];
  }
  await git.run(['worktree', 'add', '--quiet', ...args], { cwd: project });
}

/**
 * Makes `dir` a clone of the workspace's repository: fetches when it already is one, else clones
 * (after emptying it, and `alsoEmpty`, when it held a clone of another repository or anything
 * else).
 */
async function cloneOrFetch(options: WorkspaceOptions, dir: string, alsoEmpty: string[] = []): Promise<void> {
  const { git, log } = options;
  const { repo } = options.env.workspace;
  if (await exists(join(dir, '.git'))) {
    const origin = await new GitRefs(git, dir).originUrl();
    if (origin === repo) {
      await git.run(['fetch', '--quiet', '--prune', 'origin'], { cwd: dir, auth: true });
      return;
    }
    log(`${dir} holds a clone of another repository: cloning afresh`);
  }
  for (const other of alsoEmpty) await emptyDirectory(other);
  await emptyDirectory(dir);
  await git.run(['clone', '--quiet', '--', repo, dir], { cwd: options.layout.home, auth: true });
}

/**
 * Branch (or null when detached) of each worktree of `project` other than the main one, by
 * absolute path; `git worktree list --porcelain` is one block of lines per worktree.
 */
async function worktreeBranches(git: Git, project: string): Promise<Map<string, string | null>> {
  const text = await git.run(['worktree', 'list', '--porcelain'], { cwd: project });
  const result = new Map<string, string | null>();
  for (const block of text.split(/\n\n+/).slice(1)) {
    const lines = block.split('\n');
    const path = lines.find((line) => line.startsWith('worktree '))?.slice('worktree '.length);
    const branch = lines.find((line) => line.startsWith('branch '))?.slice('branch refs/heads/'.length);
    if (path !== undefined) result.set(resolve(path), branch ?? null);
  }
  return result;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Removes what `dir` contains, keeping `dir` (which may be a directory of the image's layout). */
async function emptyDirectory(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => []);
  for (const entry of entries) await rm(join(dir, entry), { recursive: true, force: true });
}
