import type { StepKind } from './runtime-env.js';

/** A commit the runtime made (the data of `git.commit`). */
export interface CommitInfo {
  sha: string;
  branch: string;
  message: string;
}

/** The step's outcome as the runtime saw it; always the last event. */
export interface ResultData {
  exitCode: number;
  /** The JSON the command wrote to `$SANDFLEET_RESULT_FILE`. */
  result?: unknown;
  /** Chat steps: `result.reply` when a string, else the command's stdout (capped). */
  reply?: string;
  /** The commit the runtime pushed (the branch's new tip), when it pushed. */
  commit?: string;
  /** Why the runtime itself failed (then `exitCode` is its own, not the command's). */
  error?: { code: string; message: string };
}

/** Event names and their data: the runtime side of the protocol. */
export interface RuntimeEventMap {
  'workspace.ready': { kind: StepKind; path: string; repo: string; branch: string | null; sha: string };
  'git.commit': CommitInfo;
  'git.push': { branch: string; sha: string };
  result: ResultData;
}
export type RuntimeEventName = keyof RuntimeEventMap;

/**
 * Largest event sequence the runtime writes, in bytes: the worker takes a longer one for output
 * (its limit is 1 MiB), so a `result` is made to fit (see {@link fitResult}).
 */
export const MAX_EVENT_BYTES = 768 * 1024;

/** Start of every event sequence (an OSC escape of our own); the token and payload follow. */
export const EVENT_SEQUENCE_PREFIX = '\x1b]sandfleet;';
/** End of every event sequence (BEL). */
export const EVENT_SEQUENCE_END = '\x07';

/**
 * `ESC ] sandfleet ; <token> ; <base64(JSON {name, data})> BEL`. Base64 keeps BEL, ESC and `;` out
 * of the payload, so a reader finds the end without parsing JSON.
 */
export function encodeRuntimeEvent<N extends RuntimeEventName>(
  token: string,
  name: N,
  data: RuntimeEventMap[N],
): string {
  const payload = Buffer.from(JSON.stringify({ name, data }), 'utf8').toString('base64');
  return `${EVENT_SEQUENCE_PREFIX}${token};${payload}${EVENT_SEQUENCE_END}`;
}

/**
 * `data` shrunk until its `result` event fits in {@link MAX_EVENT_BYTES}: the result file's JSON is
 * left out when it does not fit with the rest, then the reply is cut (to its first characters).
 * `cut` names what was.
 */
export function fitResult(data: ResultData): { data: ResultData; cut: string[] } {
  const size = (d: ResultData) => encodeRuntimeEvent('', 'result', d).length + 256; // + the token
  const fitted = { ...data };
  const cut: string[] = [];
  if (fitted.result !== undefined && size({ ...fitted, reply: undefined }) > MAX_EVENT_BYTES) {
    delete fitted.result;
    cut.push('result');
  }
  while (size(fitted) > MAX_EVENT_BYTES && fitted.reply !== undefined && fitted.reply.length > 0) {
    fitted.reply = fitted.reply.slice(0, Math.floor(fitted.reply.length * 0.75));
    if (!cut.includes('reply')) cut.push('reply');
  }
  return { data: fitted, cut };
}

/** Where events go: the runtime's stdout, the same stream the command's stdout is forwarded to. */
export interface EventSink {
  write(chunk: string): unknown;
}

export interface EventWriterOptions {
  out: EventSink;
  /** `SANDFLEET_EVENT_TOKEN`; without one no event is written (a plain `docker run` stays plain). */
  token: string | undefined;
}

/** Where the runtime's work reports its events (an {@link EventWriter}, or a collector). */
export interface RuntimeEvents {
  emit<N extends RuntimeEventName>(name: N, data: RuntimeEventMap[N]): void;
}

/**
 * Writes runtime events to stdout. Each event is one `write` of a whole sequence, issued between
 * two forwarded chunks of the command's output (never inside one), so ordering is the stream's.
 */
export class EventWriter implements RuntimeEvents {
  readonly #out: EventSink;
  readonly #token: string | undefined;

  constructor(options: EventWriterOptions) {
    this.#out = options.out;
    this.#token = options.token;
  }

  emit<N extends RuntimeEventName>(name: N, data: RuntimeEventMap[N]): void {
    if (this.#token === undefined) return;
    this.#out.write(encodeRuntimeEvent(this.#token, name, data));
  }
}
