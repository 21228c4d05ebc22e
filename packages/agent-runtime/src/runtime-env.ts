import {
  ENV_NAME_PATTERN,
  RUNTIME_ENV,
  RuntimeWorkspace,
  StepKind,
  StepSpec,
  toFieldIssues,
} from '@sandfleet/contracts';
import type { z } from 'zod';
import { RuntimeError } from './errors.js';

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
  workspace?: RuntimeWorkspace;
  /** Name of the variable holding the git token. @defaultValue `GIT_TOKEN` */
  gitTokenEnv: string;
  /** The git token itself, when that variable is set. Never printed, stored or sent in an event. */
  gitToken?: string;
  /** Authenticates the runtime's events; without it the runtime emits none. */
  eventToken?: string;
}

export const DEFAULT_HOME = '/home/agent';
export const DEFAULT_GIT_TOKEN_ENV = 'GIT_TOKEN';

// Ids become path segments and branch names, so they are checked again here, with the StepSpec's
// own schemas (the worker only passes validated specs on).
const IDS = {
  stepId: [RUNTIME_ENV.stepId, StepSpec.shape.id],
  agentId: [RUNTIME_ENV.agentId, StepSpec.shape.agentId],
  runId: [RUNTIME_ENV.runId, StepSpec.shape.runId],
  taskId: [RUNTIME_ENV.taskId, StepSpec.shape.taskId],
  chatSessionId: [RUNTIME_ENV.chatSessionId, StepSpec.shape.chatSessionId],
} as const;

type Env = Readonly<Record<string, string | undefined>>;
/** `value` parsed with `schema`; each problem is reported under the variable `name`. */
type Check = <S extends z.ZodType>(name: string, schema: S, value: unknown) => z.output<S> | undefined;

/**
 * Parses the `SANDFLEET_*` variables of the protocol (`RUNTIME_ENV` in `@sandfleet/contracts`;
 * see the package README); the git token is read from `secrets` (the step's environment, where
 * the worker's secrets are). Unset and empty variables are the same. Throws `INVALID_ENV` listing
 * every problem.
 */
export function parseRuntimeEnv(env: Env, secrets: Env = env): RuntimeEnv {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const check: Check = (name, schema, value) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const shown = typeof value === 'string' ? ` '${value}'` : '';
    for (const issue of toFieldIssues(parsed.error)) {
      problems.push(`${issue.path === '' ? name : `${name}.${issue.path}`}:${shown} ${issue.message}`);
    }
    return undefined;
  };
  const ids = Object.fromEntries(
    Object.entries(IDS).flatMap(([key, [name, schema]]) => {
      const value = read(name);
      return value !== undefined && check(name, schema, value) !== undefined ? [[key, value]] : [];
    }),
  ) as Partial<Record<keyof typeof IDS, string>>;
  const kind = check(RUNTIME_ENV.kind, StepKind, read(RUNTIME_ENV.kind) ?? 'task');
  const attemptText = read(RUNTIME_ENV.attempt);
  const attempt = attemptText === undefined ? undefined : Number(attemptText);
  if (attempt !== undefined && !(Number.isSafeInteger(attempt) && attempt >= 1)) {
    problems.push(`${RUNTIME_ENV.attempt}: '${attemptText}' must be a positive integer`);
  }
  const gitTokenEnv = read(RUNTIME_ENV.gitTokenEnv) ?? DEFAULT_GIT_TOKEN_ENV;
  if (!ENV_NAME_PATTERN.test(gitTokenEnv)) {
    problems.push(`${RUNTIME_ENV.gitTokenEnv}: '${gitTokenEnv}' must be an environment variable name`);
  }
  const workspaceText = read(RUNTIME_ENV.workspace);
  const workspace = workspaceText === undefined ? undefined : parseWorkspace(workspaceText, problems, check);
  if (workspace !== undefined) {
    if (read(RUNTIME_ENV.stepId) === undefined) {
      problems.push(`${RUNTIME_ENV.stepId}: is required with ${RUNTIME_ENV.workspace}`);
    }
    if (kind === 'pipeline' && read(RUNTIME_ENV.runId) === undefined && workspace.branch === undefined) {
      problems.push(`${RUNTIME_ENV.runId}: is required for a pipeline workspace without a branch`);
    }
  }
  if (problems.length > 0 || kind === undefined) {
    throw new RuntimeError('INVALID_ENV', `invalid environment:\n  ${problems.join('\n  ')}`);
  }
  return {
    home: read('HOME') ?? DEFAULT_HOME,
    kind,
    gitTokenEnv,
    ...ids,
    ...defined({ attempt, workspace }),
    ...defined({ gitToken: secrets[gitTokenEnv] || undefined, eventToken: read(RUNTIME_ENV.eventToken) }),
  };
}

/** `SANDFLEET_WORKSPACE`: JSON of the StepSpec's workspace; a repository URL never starts with `-`. */
function parseWorkspace(text: string, problems: string[], check: Check): RuntimeWorkspace | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    problems.push(`${RUNTIME_ENV.workspace}: is not JSON`);
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${RUNTIME_ENV.workspace}: must be a JSON object`);
    return undefined;
  }
  const workspace = check(RUNTIME_ENV.workspace, RuntimeWorkspace, value);
  if (workspace?.repo.startsWith('-')) {
    problems.push(`${RUNTIME_ENV.workspace}.repo: must not start with -`);
    return undefined;
  }
  return workspace;
}

/** The entries whose value is not undefined (for `exactOptionalPropertyTypes`-style objects). */
function defined<T extends Record<string, unknown>>(entries: T): Partial<T> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Partial<T>;
}
