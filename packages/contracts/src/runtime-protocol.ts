import * as z from 'zod';
import { StepKind, StepWorkspace } from './step-spec.js';

/**
 * The protocol between a worker and the agent runtime inside its container (v1).
 *
 * The runtime writes each of its events to the container's stdout as
 * `ESC ] sandfleet ; <token> ; <base64(JSON RuntimeMessage)> BEL`, between chunks of the step's
 * own output. The worker strips those sequences and publishes them as typed `runtime` events.
 * Two factors keep the step from forging one: the runtime replaces the ESC of every
 * {@link RUNTIME_EVENT_PREFIX} in the step's stdout with {@link RUNTIME_EVENT_ESCAPE}, so only
 * the runtime's own writes hold the prefix, and a sequence must carry this attempt's token, which
 * the step (another uid) cannot read. A prefix followed by anything but `token;base64 BEL` within
 * {@link MAX_RUNTIME_SEQUENCE_BYTES} is plain output.
 */
export const RUNTIME_EVENT_PREFIX = '\x1b]sandfleet;';
export const RUNTIME_EVENT_END = '\x07';
/** What the runtime writes instead of the ESC of a prefix found in the step's stdout (`␛`). */
export const RUNTIME_EVENT_ESCAPE = '\u241b';
/** A sequence longer than this, prefix and BEL included, is not an event: it is output. */
export const MAX_RUNTIME_SEQUENCE_BYTES = 1024 * 1024;
/**
 * Largest sequence the runtime writes, token included: below {@link MAX_RUNTIME_SEQUENCE_BYTES}
 * with room to spare, so the runtime shrinks a `result` to fit rather than have it read as output.
 */
export const MAX_RUNTIME_EVENT_BYTES = 768 * 1024;
/** A chat step's reply: at most this much of its stdout is kept, by the runtime and the worker. */
export const MAX_CHAT_REPLY_BYTES = 256 * 1024;

/**
 * Exit code of the runtime when it fails itself rather than the step's command (sysexits
 * `EX_SOFTWARE`); its `result` event then carries `error` with a {@link RuntimeErrorCode}.
 */
export const RUNTIME_FAILURE_EXIT_CODE = 70;

/** Why the runtime itself failed (`RuntimeResult.error.code`; the step row's `errorCode`). */
export const RuntimeErrorCode = z.enum([
  /** The worker's `SANDFLEET_*` environment is invalid. */
  'INVALID_ENV',
  /** Cloning, fetching or checking out the workspace failed (bad URL, wrong token, unknown ref). */
  'WORKSPACE_FAILED',
  /** The step succeeded but committing or pushing its changes failed. */
  'PUBLISH_FAILED',
  /** The runtime was stopped by a signal before the command ran or while it pushed. */
  'INTERRUPTED',
  /** Anything else that went wrong in the runtime (the home not writable, …). */
  'INTERNAL',
]);
export type RuntimeErrorCode = z.infer<typeof RuntimeErrorCode>;

/**
 * Image label marking an image whose entrypoint is the agent runtime (value
 * {@link RUNTIME_IMAGE_LABEL_VALUE}). Only such images run their entrypoint as root with
 * `SETUID`/`SETGID`/`KILL`, get the root-only runtime files and have their stdout demultiplexed;
 * any other image runs as its `USER` with every byte of stdout as output.
 */
export const RUNTIME_IMAGE_LABEL = 'sandfleet.runtime';
export const RUNTIME_IMAGE_LABEL_VALUE = 'agent-runtime.v1';

/**
 * Image label (value {@link HOME_SKELETON_LABEL_VALUE}) saying that the image's `/home/agent`
 * holds `vault/` and `vault/shared/`, owned by its `USER`. The engine copies them into a home
 * and a shared vault it creates for a container, so a run whose create made those volumes needs
 * no upload to make the vault directories the agent's. An image that claims it falsely only
 * leaves its own agent a vault it cannot write.
 */
export const HOME_SKELETON_LABEL = 'sandfleet.home-skeleton';
export const HOME_SKELETON_LABEL_VALUE = 'vault.v1';
/** uid and gid the agent runtime runs the step as (the image's `agent` user). */
export const AGENT_UID = 1000;

/** Environment variables the worker sets for the runtime (unset and empty are the same). */
export const RUNTIME_ENV = {
  /** File (under `/sandfleet/`) holding the token; the runtime reads it and empties it. */
  eventTokenFile: 'SANDFLEET_EVENT_TOKEN_FILE',
  /** The token itself, when there is no file (a runtime run by hand). Never given to the step. */
  eventToken: 'SANDFLEET_EVENT_TOKEN',
  /** File (under `/sandfleet/`) holding the step's environment (JSON); read, then deleted. */
  stepEnvFile: 'SANDFLEET_STEP_ENV_FILE',
  /** The StepSpec's ids and kind, checked again by the runtime with the StepSpec's schemas. */
  stepId: 'SANDFLEET_STEP_ID',
  agentId: 'SANDFLEET_AGENT_ID',
  kind: 'SANDFLEET_KIND',
  /** Attempt number, a positive integer. */
  attempt: 'SANDFLEET_ATTEMPT',
  runId: 'SANDFLEET_RUN_ID',
  taskId: 'SANDFLEET_TASK_ID',
  chatSessionId: 'SANDFLEET_CHAT_SESSION_ID',
  /** The StepSpec's `workspace` as JSON ({@link RuntimeWorkspace}). */
  workspace: 'SANDFLEET_WORKSPACE',
  /** Name of the step variable holding the git token. @defaultValue `GIT_TOKEN` */
  gitTokenEnv: 'SANDFLEET_GIT_TOKEN_ENV',
  chatHistoryFile: 'SANDFLEET_CHAT_HISTORY_FILE',
} as const;

/**
 * `SANDFLEET_WORKSPACE` as the runtime reads it: the StepSpec's `workspace`, with unknown keys
 * ignored (a newer worker's) rather than refused.
 */
export const RuntimeWorkspace = z.object(StepWorkspace.shape);
export type RuntimeWorkspace = z.infer<typeof RuntimeWorkspace>;

/**
 * Runtime file (under `/sandfleet/`, root-only: owner root, mode 0400) holding this attempt's
 * event token. A file, not a variable: the container's environment is in /proc/1/environ.
 */
export const EVENT_TOKEN_FILE = 'event-token';

/**
 * Runtime file (under `/sandfleet/`, root-only) holding the step's environment as a JSON object
 * of strings: its `env`, secrets and input variables, which reach only the step's process and
 * never the runtime's own environment (so `NODE_OPTIONS`, `LD_PRELOAD` are inert for it).
 */
export const STEP_ENV_FILE = 'step-env.json';

/** Runtime file (under `/sandfleet/`) holding a chat step's prior conversation. */
export const CHAT_HISTORY_FILE = 'chat-history.json';

/** One event of the runtime: `workspace.ready`, `git.commit`, `git.push`, `result`, … */
export const RuntimeMessage = z.object({
  name: z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/),
  data: z.unknown().optional(),
});
export type RuntimeMessage = z.infer<typeof RuntimeMessage>;

/** Data of the runtime's last event, `result`: recorded as the step's result. */
export const RuntimeResult = z.object({
  exitCode: z.int(),
  /** What the step wrote to `$SANDFLEET_RESULT_FILE`, when it wrote valid JSON. */
  result: z.unknown().optional(),
  /** Chat steps: the assistant's reply. */
  reply: z.string().optional(),
  /** Commit pushed by the runtime, when `workspace.push` was set. */
  commit: z.string().optional(),
  /**
   * Why the runtime itself failed (`exitCode` is then its own, {@link RUNTIME_FAILURE_EXIT_CODE}
   * or 128 + n for a signal). `code` is a {@link RuntimeErrorCode}, read as any string so that a
   * newer runtime's code still reaches the row.
   */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type RuntimeResult = z.infer<typeof RuntimeResult>;

/** Data of `workspace.ready`: the workspace is checked out (`sha` `''` on an unborn branch). */
export const WorkspaceReady = z.object({
  kind: StepKind,
  path: z.string(),
  /** The repository URL, a password in it shown as `***`. */
  repo: z.string(),
  /** Null on a detached HEAD. */
  branch: z.string().nullable(),
  sha: z.string(),
});
export type WorkspaceReady = z.infer<typeof WorkspaceReady>;

/** Data of `git.commit`: a commit the runtime made of the command's changes. */
export const GitCommit = z.object({ sha: z.string(), branch: z.string(), message: z.string() });
export type GitCommit = z.infer<typeof GitCommit>;

/** Data of `git.push`: HEAD was pushed to `refs/heads/<branch>`. */
export const GitPush = z.object({ branch: z.string(), sha: z.string() });
export type GitPush = z.infer<typeof GitPush>;

/** The runtime's events by name, each with the schema of its data; `result` is always the last. */
export const RuntimeEventData = {
  'workspace.ready': WorkspaceReady,
  'git.commit': GitCommit,
  'git.push': GitPush,
  result: RuntimeResult,
} as const;
export type RuntimeEventName = keyof typeof RuntimeEventData;
export type RuntimeEventMap = { [N in RuntimeEventName]: z.infer<(typeof RuntimeEventData)[N]> };

/** One message of a chat session, as the runtime receives the prior conversation. */
export const ChatMessage = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  stepId: z.string().optional(),
  createdAt: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** Encodes one runtime event for the container's stdout. */
export function encodeRuntimeEvent(token: string, message: RuntimeMessage): string {
  const payload = Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
  return `${RUNTIME_EVENT_PREFIX}${token};${payload}${RUNTIME_EVENT_END}`;
}
