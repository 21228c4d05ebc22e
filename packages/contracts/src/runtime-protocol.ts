import { z } from 'zod';

/**
 * The protocol between a worker and the agent runtime inside its container (v1).
 *
 * The runtime writes each of its events to the container's stdout as
 * `ESC ] sandfleet ; <token> ; <base64(JSON RuntimeMessage)> BEL`, between chunks of the step's
 * own output. The worker strips those sequences and publishes them as typed `runtime` events;
 * a sequence with another token stays plain output, so the step itself cannot forge events
 * (the runtime reads the token from {@link EVENT_TOKEN_FILE} and empties it before the step starts).
 */
export const RUNTIME_EVENT_PREFIX = '\x1b]sandfleet;';
export const RUNTIME_EVENT_END = '\x07';

/** Environment variables the worker sets for the runtime. */
export const RUNTIME_ENV = {
  /** File (under `/sandfleet/`) holding the token; the runtime reads it and empties it. */
  eventTokenFile: 'SANDFLEET_EVENT_TOKEN_FILE',
  workspace: 'SANDFLEET_WORKSPACE',
  gitTokenEnv: 'SANDFLEET_GIT_TOKEN_ENV',
  chatHistoryFile: 'SANDFLEET_CHAT_HISTORY_FILE',
} as const;

/**
 * Runtime file (under `/sandfleet/`) holding this attempt's event token. A file, not a variable:
 * the step runs as the same user and could read any process's environment from /proc.
 */
export const EVENT_TOKEN_FILE = 'event-token';

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
