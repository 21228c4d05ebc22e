import { RuntimeError } from './errors.js';

/** What the step is; selects the workspace layout. */
export type StepKind = 'task' | 'pipeline' | 'pulse' | 'chat';
const STEP_KINDS: readonly StepKind[] = ['task', 'pipeline', 'pulse', 'chat'];

/** The git repository of a step (`SANDFLEET_WORKSPACE`, the StepSpec's `workspace`). */
export interface WorkspaceSpec {
  repo: string;
  ref?: string;
  branch?: string;
  /** Commit and push the branch when the command succeeds. @defaultValue `false` */
  push: boolean;
}

/** The runtime's view of the environment the worker gave the container; parsed once at start. */
export interface RuntimeEnv {
  /** The agent's home (`HOME`). @defaultValue `/home/agent` */
  home: string;
  stepId?: string;
  agentId?: string;
  /** @defaultValue `task` */
  kind: StepKind;
  attempt?: number;
  runId?: string;
  taskId?: string;
  chatSessionId?: string;
  workspace?: WorkspaceSpec;
  /** Name of the variable holding the git token. @defaultValue `GIT_TOKEN` */
  gitTokenEnv: string;
  /** The git token itself, when that variable is set. Never printed, stored or sent in an event. */
  gitToken?: string;
  /** Authenticates the runtime's events; without it the runtime emits none. */
  eventToken?: string;
}

export const DEFAULT_HOME = '/home/agent';
export const DEFAULT_GIT_TOKEN_ENV = 'GIT_TOKEN';

// The same patterns as StepSpec v1 in @sandfleet/contracts (not imported: the runtime has no
// dependencies). Ids become path segments and branch names, so they are checked again here.
const AGENT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const GIT_UNSAFE = /\.\.|\.$|\.lock$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters being rejected.
const GIT_ARG = /^[^-\s\x00][^\s\x00]{0,255}$/;
const REPO_PATTERN = /^(https?|ssh|git|file):\/\/\S+$|^[\w.-]+@[\w.-]+:\S+$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the `SANDFLEET_*` variables of the protocol (see the package README); the git token is
 * read from `secrets` (the step's environment, where the worker's secrets are). Unset and empty
 * variables are the same. Throws `INVALID_ENV` listing every problem.
 */
export function parseRuntimeEnv(env: Env, secrets: Env = env): RuntimeEnv {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const id = (name: string, pattern: RegExp): string | undefined => {
    const value = read(name);
    if (value !== undefined && (!pattern.test(value) || GIT_UNSAFE.test(value))) {
      problems.push(`${name}: '${value}' must match ${pattern}, without '..' or a trailing '.' or '.lock'`);
    }
    return value;
  };

  const stepId = id('SANDFLEET_STEP_ID', ID_PATTERN);
  const agentId = id('SANDFLEET_AGENT_ID', AGENT_ID_PATTERN);
  const runId = id('SANDFLEET_RUN_ID', ID_PATTERN);
  const taskId = id('SANDFLEET_TASK_ID', ID_PATTERN);
  const chatSessionId = id('SANDFLEET_CHAT_SESSION_ID', ID_PATTERN);
  const kind = read('SANDFLEET_KIND') ?? 'task';
  if (!STEP_KINDS.includes(kind as StepKind)) {
    problems.push(`SANDFLEET_KIND: '${kind}' must be one of ${STEP_KINDS.join(', ')}`);
  }
  const attemptText = read('SANDFLEET_ATTEMPT');
  const attempt = attemptText === undefined ? undefined : Number(attemptText);
  if (attempt !== undefined && !(Number.isSafeInteger(attempt) && attempt >= 1)) {
    problems.push(`SANDFLEET_ATTEMPT: '${attemptText}' must be a positive integer`);
  }
  const gitTokenEnv = read('SANDFLEET_GIT_TOKEN_ENV') ?? DEFAULT_GIT_TOKEN_ENV;
  if (!ENV_NAME_PATTERN.test(gitTokenEnv)) {
    problems.push(`SANDFLEET_GIT_TOKEN_ENV: '${gitTokenEnv}' must be an environment variable name`);
  }
  const workspaceText = read('SANDFLEET_WORKSPACE');
  const workspace = workspaceText === undefined ? undefined : parseWorkspace(workspaceText, problems);
  if (workspace !== undefined) {
    if (stepId === undefined) problems.push('SANDFLEET_STEP_ID: is required with SANDFLEET_WORKSPACE');
    if (kind === 'pipeline' && runId === undefined && workspace.branch === undefined) {
      problems.push('SANDFLEET_RUN_ID: is required for a pipeline workspace without a branch');
    }
  }
  if (problems.length > 0) {
    throw new RuntimeError('INVALID_ENV', `invalid environment:\n  ${problems.join('\n  ')}`);
  }
  return {
    home: read('HOME') ?? DEFAULT_HOME,
    kind: kind as StepKind,
    gitTokenEnv,
    ...defined({ stepId, agentId, runId, taskId, chatSessionId, attempt, workspace }),
    ...defined({ gitToken: secrets[gitTokenEnv] || undefined, eventToken: read('SANDFLEET_EVENT_TOKEN') }),
  };
}

function parseWorkspace(text: string, problems: string[]): WorkspaceSpec | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    problems.push('SANDFLEET_WORKSPACE: is not JSON');
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('SANDFLEET_WORKSPACE: must be a JSON object');
    return undefined;
  }
  const { repo, ref, branch, push = false } = value as Record<string, unknown>;
  const before = problems.length;
  if (typeof repo !== 'string' || !REPO_PATTERN.test(repo) || repo.startsWith('-')) {
    problems.push('SANDFLEET_WORKSPACE.repo: must be a git URL');
  }
  for (const [name, arg] of [
    ['ref', ref],
    ['branch', branch],
  ] as const) {
    if (arg !== undefined && (typeof arg !== 'string' || !GIT_ARG.test(arg))) {
      problems.push(`SANDFLEET_WORKSPACE.${name}: must be a string without whitespace, not starting with -`);
    }
  }
  if (typeof push !== 'boolean') problems.push('SANDFLEET_WORKSPACE.push: must be a boolean');
  if (problems.length > before) return undefined;
  return {
    repo: repo as string,
    push: push as boolean,
    ...defined({ ref: ref as string | undefined, branch: branch as string | undefined }),
  };
}

/** The entries whose value is not undefined (for `exactOptionalPropertyTypes`-style objects). */
function defined<T extends Record<string, unknown>>(entries: T): Partial<T> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Partial<T>;
}
