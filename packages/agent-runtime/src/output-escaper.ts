import { RUNTIME_EVENT_ESCAPE, RUNTIME_EVENT_PREFIX } from '@sandfleet/contracts';

const PREFIX = Buffer.from(RUNTIME_EVENT_PREFIX, 'latin1');
const ESC = PREFIX[0] as number;
/** Written instead of the ESC of a prefix in the step's output. */
const ESCAPED_ESC = Buffer.from(RUNTIME_EVENT_ESCAPE, 'utf8');

/**
 * Makes the step's stdout unable to hold an event sequence: every occurrence of the event prefix
 * (`ESC ] sandfleet ;`) gets its ESC replaced by `␛`, across chunk boundaries, in one pass. Only
 * the runtime's own writes then carry a real prefix, whatever the step knows or guesses. A chunk
 * ending in what may be the start of a prefix has those bytes (at most 11) held back until the
 * next chunk or {@link end}.
 */
export class OutputEscaper {
  #held: Buffer = Buffer.alloc(0);

  /** The bytes of `chunk` (and of what was held back) that can be written now, escaped. */
  push(chunk: Buffer): Buffer {
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = data.indexOf(PREFIX); at !== -1; at = data.indexOf(PREFIX, at + PREFIX.length)) {
      parts.push(data.subarray(from, at), ESCAPED_ESC);
      from = at + 1;
    }
    const keep = partialPrefixStart(data, Math.max(from, data.length - PREFIX.length + 1));
    parts.push(data.subarray(from, keep));
    this.#held = Buffer.from(data.subarray(keep));
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /** What is still held back (an unfinished prefix is plain output after all). */
  end(): Buffer {
    const rest = this.#held;
    this.#held = Buffer.alloc(0);
    return rest;
  }
}

/** Start of a prefix of PREFIX that ends `data` (searched from `from`); `data.length` if none. */
function partialPrefixStart(data: Buffer, from: number): number {
  const esc = data.subarray(from).lastIndexOf(ESC);
  if (esc === -1) return data.length;
  const start = from + esc;
  return data.compare(PREFIX, 0, data.length - start, start) === 0 ? start : data.length;
}
