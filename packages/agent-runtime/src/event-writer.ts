import {
  encodeRuntimeEvent,
  MAX_RUNTIME_EVENT_BYTES,
  type RuntimeEventMap,
  type RuntimeEventName,
  type RuntimeResult,
} from '@sandfleet/contracts';

/**
 * `data` shrunk until its `result` event fits in {@link MAX_RUNTIME_EVENT_BYTES}: the result file's JSON is
 * left out when it does not fit with the rest, then the reply is cut (to its first characters).
 * `cut` names what was.
 */
export function fitResult(data: RuntimeResult): { data: RuntimeResult; cut: string[] } {
  const size = (d: RuntimeResult) => encodeRuntimeEvent('', { name: 'result', data: d }).length + 256; // + the token
  const fitted = { ...data };
  const cut: string[] = [];
  if (fitted.result !== undefined && size({ ...fitted, reply: undefined }) > MAX_RUNTIME_EVENT_BYTES) {
    delete fitted.result;
    cut.push('result');
  }
  while (size(fitted) > MAX_RUNTIME_EVENT_BYTES && fitted.reply !== undefined && fitted.reply.length > 0) {
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
    this.#out.write(encodeRuntimeEvent(this.#token, { name, data }));
  }
}
