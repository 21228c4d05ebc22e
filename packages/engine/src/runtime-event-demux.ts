import { RUNTIME_EVENT_END, RUNTIME_EVENT_PREFIX, RuntimeMessage } from '@sandfleet/contracts';

const PREFIX = Buffer.from(RUNTIME_EVENT_PREFIX, 'latin1');
const END = RUNTIME_EVENT_END.charCodeAt(0);
/** A sequence longer than this is not an event of ours: it is passed through as output. */
const MAX_SEQUENCE_BYTES = 1024 * 1024;

export interface RuntimeEventDemuxHandlers {
  /** Output of the step, with the runtime's sequences removed, in order. */
  text(chunk: Buffer): void | Promise<void>;
  /** A runtime event carrying this attempt's token. */
  event(message: RuntimeMessage): void | Promise<void>;
}

/**
 * Splits a container's stdout into the step's output and the agent runtime's events (see
 * `RUNTIME_EVENT_PREFIX` in contracts). Works across chunk boundaries and holds back at most one
 * incomplete sequence; a sequence with another token, or one that does not decode, stays output.
 */
export class RuntimeEventDemux {
  readonly #token: string;
  readonly #handlers: RuntimeEventDemuxHandlers;
  #pending: Buffer = Buffer.alloc(0);

  constructor(token: string, handlers: RuntimeEventDemuxHandlers) {
    this.#token = token;
    this.#handlers = handlers;
  }

  async push(chunk: Buffer): Promise<void> {
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    for (;;) {
      const start = data.indexOf(PREFIX);
      if (start === -1) {
        const keep = partialPrefixLength(data);
        await this.#text(data.subarray(0, data.length - keep));
        this.#pending = Buffer.from(data.subarray(data.length - keep));
        return;
      }
      await this.#text(data.subarray(0, start));
      const end = data.indexOf(END, start + PREFIX.length);
      if (end === -1) {
        if (data.length - start <= MAX_SEQUENCE_BYTES) {
          this.#pending = Buffer.from(data.subarray(start));
          return;
        }
        await this.#text(data.subarray(start, start + 1));
        data = data.subarray(start + 1);
        continue;
      }
      const message = this.#decode(data.subarray(start + PREFIX.length, end));
      if (message) await this.#handlers.event(message);
      else await this.#text(data.subarray(start, end + 1));
      data = data.subarray(end + 1);
    }
  }

  /** Releases what is held back (an unfinished sequence is output after all). */
  async end(): Promise<void> {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    await this.#text(rest);
  }

  #decode(body: Buffer): RuntimeMessage | undefined {
    const text = body.toString('latin1');
    const separator = text.indexOf(';');
    if (separator === -1 || text.slice(0, separator) !== this.#token) return undefined;
    try {
      const json: unknown = JSON.parse(Buffer.from(text.slice(separator + 1), 'base64').toString('utf8'));
      const parsed = RuntimeMessage.safeParse(json);
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async #text(chunk: Buffer): Promise<void> {
    if (chunk.length > 0) await this.#handlers.text(chunk);
  }
}

/** Length of the longest end of `data` that could begin a sequence. */
function partialPrefixLength(data: Buffer): number {
  for (let length = Math.min(PREFIX.length - 1, data.length); length > 0; length--) {
    if (data.subarray(data.length - length).equals(PREFIX.subarray(0, length))) return length;
  }
  return 0;
}
