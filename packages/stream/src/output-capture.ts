import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from '@sandfleet/contracts';
import type { RedactionStream, Redactor } from './redactor.js';

/** Options of {@link OutputCapture}. */
export interface OutputCaptureOptions {
  redactor: Redactor;
  /** Most UTF-8 bytes of (redacted) output text ever let through. */
  limitBytes: number;
}

/** What one write let through. */
export interface CapturedText {
  /** Redacted text to publish, possibly empty. */
  text: string;
  /** UTF-8 length of `text`. */
  bytes: number;
  /** True exactly once: on the write whose text reached past the limit and was cut. */
  hitLimit: boolean;
}

interface StreamState {
  decoder: StringDecoder;
  redaction: RedactionStream;
}

/**
 * Turns raw stdout/stderr bytes into publishable text: decodes UTF-8 per stream (a character
 * split across chunks is decoded whole), redacts secrets per stream (a secret split across
 * chunks of the same stream is caught), and caps the total at `limitBytes` bytes of published
 * text, cutting on a character boundary. Keeps the published text as {@link captured}; memory
 * is bounded by the limit plus a few held-back characters per stream. @internal
 */
export class OutputCapture {
  readonly #limitBytes: number;
  readonly #streams: Record<OutputStream, StreamState>;
  readonly #parts: string[] = [];
  #capturedBytes = 0;
  #rawBytes = 0;
  #truncated = false;
  #joined: string | undefined = '';

  constructor(options: OutputCaptureOptions) {
    this.#limitBytes = options.limitBytes;
    const state = (): StreamState => ({
      decoder: new StringDecoder('utf8'),
      redaction: options.redactor.stream(),
    });
    this.#streams = { stdout: state(), stderr: state() };
  }

  /** Bytes the step printed, including those dropped beyond the limit. */
  get rawBytes(): number {
    return this.#rawBytes;
  }

  /** Whether output was dropped because of the limit. */
  get truncated(): boolean {
    return this.#truncated;
  }

  /** The published text so far, stdout and stderr interleaved in publishing order. */
  get captured(): string {
    this.#joined ??= this.#parts.join('');
    return this.#joined;
  }

  /** Takes one raw chunk of `stream`. */
  write(stream: OutputStream, chunk: Uint8Array): CapturedText {
    this.#rawBytes += chunk.byteLength;
    if (this.#truncated) return { text: '', bytes: 0, hitLimit: false };
    const { decoder, redaction } = this.#streams[stream];
    return this.#admit(redaction.push(decoder.write(chunk)));
  }

  /** Ends `stream`: releases a trailing partial character and any held-back text. */
  end(stream: OutputStream): CapturedText {
    if (this.#truncated) return { text: '', bytes: 0, hitLimit: false };
    const { decoder, redaction } = this.#streams[stream];
    return this.#admit(redaction.push(decoder.end()) + redaction.end());
  }

  #admit(text: string): CapturedText {
    if (text.length === 0) return { text, bytes: 0, hitLimit: false };
    const room = this.#limitBytes - this.#capturedBytes;
    let bytes = Buffer.byteLength(text);
    let hitLimit = false;
    if (bytes > room) {
      text = truncateUtf8(text, room);
      bytes = Buffer.byteLength(text);
      hitLimit = true;
      this.#truncated = true;
    }
    if (text.length > 0) {
      this.#parts.push(text);
      this.#capturedBytes += bytes;
      this.#joined = undefined;
    }
    return { text, bytes, hitLimit };
  }
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, cut between characters. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}
