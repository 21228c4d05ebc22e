import {
  MAX_RUNTIME_SEQUENCE_BYTES,
  RUNTIME_EVENT_END,
  RUNTIME_EVENT_PREFIX,
  RuntimeMessage,
} from '@sandfleet/contracts';

const ESC = RUNTIME_EVENT_PREFIX.charCodeAt(0);
const END = RUNTIME_EVENT_END.charCodeAt(0);

export interface RuntimeEventDemuxHandlers {
  /** Output of the step, with the runtime's sequences removed, in order. */
  text(chunk: Buffer): void | Promise<void>;
  /** A runtime event carrying this attempt's token. */
  event(message: RuntimeMessage): void | Promise<void>;
}

export interface RuntimeEventDemuxOptions {
  /**
   * Bytes of event sequences accepted at most (the step's `outputBytes`, which they count
   * against): a sequence past it is dropped, neither published nor output (it holds the token).
   * @defaultValue unbounded
   */
  maxEventBytes?: number;
}

/**
 * Splits a container's stdout into the step's output and the agent runtime's events (see
 * `RUNTIME_EVENT_PREFIX` in contracts). A streaming state machine over native searches, linear in
 * the input: it looks for the whole head `ESC ] sandfleet ; <token> ;` (so a prefix with another
 * token, or none, costs nothing more than plain text), then for the BEL that ends the payload.
 * Held back at most: a partial head, or one payload of up to {@link MAX_RUNTIME_SEQUENCE_BYTES}.
 * A head followed by an ESC before its BEL, or a sequence that is too long or does not decode, is
 * output, and scanning resumes at that ESC: a trailing partial sequence printed by the step cannot
 * swallow the runtime's events. Exact because ESC is only the head's first byte and is in neither
 * a token nor base64.
 */
export class RuntimeEventDemux {
  readonly #head: Buffer;
  readonly #handlers: RuntimeEventDemuxHandlers;
  readonly #maxEventBytes: number;
  /** `text`; `head`: #held is a partial head; `payload`: #held starts a sequence. */
  #state: 'text' | 'head' | 'payload' = 'text';
  #held: Buffer[] = [];
  #heldBytes = 0;
  #eventBytes = 0;

  constructor(token: string, handlers: RuntimeEventDemuxHandlers, options: RuntimeEventDemuxOptions = {}) {
    this.#head = Buffer.from(`${RUNTIME_EVENT_PREFIX}${token};`, 'latin1');
    this.#handlers = handlers;
    this.#maxEventBytes = options.maxEventBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes of event sequences seen so far (those dropped past `maxEventBytes` included). */
  get eventBytes(): number {
    return this.#eventBytes;
  }

  async push(chunk: Buffer): Promise<void> {
    const head = this.#head;
    const n = chunk.length;
    /** First byte of `chunk` neither emitted nor held. */
    let textStart = 0;
    /** Start in `chunk` of the sequence being read (0 when it began in an earlier chunk). */
    let sequenceStart = 0;
    let pos = 0;
    if (this.#state === 'head') {
      const need = head.length - this.#heldBytes;
      const available = Math.min(need, n);
      if (chunk.compare(head, this.#heldBytes, this.#heldBytes + available, 0, available) !== 0) {
        await this.#release();
        this.#state = 'text';
      } else if (available < need) {
        return this.#hold(chunk);
      } else {
        this.#state = 'payload';
        pos = available;
      }
    }
    while (pos < n || this.#state === 'text') {
      if (this.#state === 'text') {
        const found = chunk.indexOf(head, pos);
        if (found === -1) {
          const partial = partialHeadStart(chunk, Math.max(pos, n - head.length + 1), head);
          await this.#text(chunk.subarray(textStart, partial));
          if (partial < n) {
            this.#state = 'head';
            this.#hold(chunk.subarray(partial));
          }
          return;
        }
        sequenceStart = found;
        pos = found + head.length;
        this.#state = 'payload';
        continue;
      }
      const end = chunk.indexOf(END, pos);
      const scanned = chunk.subarray(pos, end === -1 ? n : end);
      const esc = scanned.indexOf(ESC);
      const length = this.#heldBytes + (end === -1 ? n : end + 1) - sequenceStart;
      if (esc !== -1 || length > MAX_RUNTIME_SEQUENCE_BYTES) {
        // Not a sequence: its bytes are output; resume at the ESC (no ESC before it can start one).
        await this.#release();
        this.#state = 'text';
        pos = esc !== -1 ? pos + esc : end === -1 ? n : end + 1;
        continue;
      }
      if (end === -1) break;
      await this.#text(chunk.subarray(textStart, sequenceStart));
      const sequence = this.#take(chunk.subarray(sequenceStart, end + 1));
      textStart = pos = end + 1;
      this.#state = 'text';
      await this.#sequence(sequence);
    }
    // In a payload that goes on in the next chunk.
    await this.#text(chunk.subarray(textStart, sequenceStart));
    this.#hold(chunk.subarray(sequenceStart));
  }

  /** Releases what is held back (an unfinished sequence is output after all). */
  async end(): Promise<void> {
    await this.#release();
    this.#state = 'text';
  }

  #hold(part: Buffer): void {
    if (part.length === 0) return;
    this.#held.push(Buffer.from(part));
    this.#heldBytes += part.length;
  }

  /** The held bytes followed by `tail`, as one buffer; nothing is held afterwards. */
  #take(tail: Buffer): Buffer {
    const whole = this.#held.length === 0 ? tail : Buffer.concat([...this.#held, tail]);
    this.#held = [];
    this.#heldBytes = 0;
    return whole;
  }

  /** Held bytes that turned out not to be a sequence: output. */
  async #release(): Promise<void> {
    await this.#text(this.#take(Buffer.alloc(0)));
  }

  async #sequence(sequence: Buffer): Promise<void> {
    const message = decode(sequence.subarray(this.#head.length, sequence.length - 1));
    if (message === undefined) return this.#text(sequence);
    this.#eventBytes += sequence.length;
    if (this.#eventBytes > this.#maxEventBytes) return;
    await this.#handlers.event(message);
  }

  async #text(chunk: Buffer): Promise<void> {
    if (chunk.length > 0) await this.#handlers.text(chunk);
  }
}

/**
 * Where in `chunk` (from `from` on) a partial head starts that reaches the chunk's end; the
 * chunk's length when none does. Only the last ESC can start one: the head holds a single ESC.
 */
function partialHeadStart(chunk: Buffer, from: number, head: Buffer): number {
  const esc = chunk.subarray(from).lastIndexOf(ESC);
  if (esc === -1) return chunk.length;
  const start = from + esc;
  return chunk.compare(head, 0, chunk.length - start, start) === 0 ? start : chunk.length;
}

function decode(payload: Buffer): RuntimeMessage | undefined {
  const text = payload.toString('latin1');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  try {
    const json: unknown = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
    const parsed = RuntimeMessage.safeParse(json);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
