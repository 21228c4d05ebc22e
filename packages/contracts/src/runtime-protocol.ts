import { z } from 'zod';

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
 * Image label marking an image whose entrypoint is the agent runtime (value
 * {@link RUNTIME_IMAGE_LABEL_VALUE}). Only such images run their entrypoint as root with
 * `SETUID`/`SETGID`/`KILL`, get the root-only runtime files and have their stdout demultiplexed;
 * any other image runs as its `USER` with every byte of stdout as output.
 */
export const RUNTIME_IMAGE_LABEL = 'sandfleet.runtime';
export const RUNTIME_IMAGE_LABEL_VALUE = 'agent-runtime.v1';
/** uid and gid the agent runtime runs the step as (the image's `agent` user). */
export const AGENT_UID = 1000;

/** Environment variables the worker sets for the runtime. */
export const RUNTIME_ENV = {
  /** File (under `/sandfleet/`) holding the token; the runtime reads it and empties it. */
  eventTokenFile: 'SANDFLEET_EVENT_TOKEN_FILE',
  /** File (under `/sandfleet/`) holding the step's environment (JSON); read, then deleted. */
  stepEnvFile: 'SANDFLEET_STEP_ENV_FILE',
  workspace: 'SANDFLEET_WORKSPACE',
  gitTokenEnv: 'SANDFLEET_GIT_TOKEN_ENV',
  chatHistoryFile: 'SANDFLEET_CHAT_HISTORY_FILE',
} as const;

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
  /** Why the runtime itself failed (`exitCode` is then its own, e.g. 70). */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type RuntimeResult = z.infer<typeof RuntimeResult>;

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
