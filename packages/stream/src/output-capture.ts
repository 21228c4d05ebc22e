import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from '@sandfleet/contracts';
import type { RedactedPiece, RedactionStream, Redactor } from './redactor.js';

/** Options of {@link OutputCapture}. */
export interface OutputCaptureOptions {
  redactor: Redactor;
  /** Most UTF-8 bytes of (redacted) output text ever let through. */
  limitBytes: number;
}

/** Text one write or end let through, for one stream. */
export interface CapturedText {
  stream: OutputStream;
  /** Redacted text to publish, possibly empty. */
  text: string;
  /** UTF-8 length of `text`. */
  bytes: number;
  /** True exactly once: on the text that reached past the limit and was cut. */
  hitLimit: boolean;
}

interface StreamState {
  decoder: StringDecoder;
  redaction: RedactionStream;
}

/** Raw characters `[start, end)` of the interleaved text came from `stream`. */
interface Segment {
  stream: OutputStream;
  end: number;
}

/**
 * Turns raw stdout/stderr bytes into publishable text: decodes UTF-8 per stream (a character
 * split across chunks is decoded whole), redacts secrets and caps the total at `limitBytes` bytes
 * of published text, cutting on a character boundary. Keeps the published text as
 * {@link captured}; memory is bounded by the limit plus a few held-back characters per stream.
 *
 * Redaction runs twice. First over stdout and stderr interleaved in arrival order, so a secret
 * whose first part is written to one stream and the rest to the other is caught (its marker goes
 * to the stream where it starts); then per stream, so a secret split across two writes of one
 * stream with writes to the other in between is caught too. @internal
 */
export class OutputCapture {
  readonly #limitBytes: number;
  readonly #streams: Record<OutputStream, StreamState>;
  readonly #merged: RedactionStream;
  /** Which stream each raw character of the interleaved text not yet let through came from. */
  readonly #segments: Segment[] = [];
  #mergedLength = 0;
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
    this.#merged = options.redactor.stream();
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

  /** Takes one raw chunk of `stream`; returns what may be published now, per stream, in order. */
  write(stream: OutputStream, chunk: Uint8Array): CapturedText[] {
    this.#rawBytes += chunk.byteLength;
    if (this.#truncated) return [];
    return this.#feed(stream, this.#streams[stream].decoder.write(chunk));
  }

  /** Ends both streams: releases trailing partial characters and all held-back text. */
  end(): CapturedText[] {
    if (this.#truncated) return [];
    const out: CapturedText[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      out.push(...this.#feed(stream, this.#streams[stream].decoder.end()));
    }
    out.push(...this.#perStream(this.#merged.endPieces()));
    for (const stream of ['stdout', 'stderr'] as const) {
      out.push(...this.#admit(stream, this.#streams[stream].redaction.end()));
    }
    return out;
  }

  /** Passes decoded text of `stream` to the interleaved redaction, noting where it came from. */
  #feed(stream: OutputStream, text: string): CapturedText[] {
    if (text.length === 0) return [];
    this.#mergedLength += text.length;
    const last = this.#segments.at(-1);
    if (last?.stream === stream) last.end = this.#mergedLength;
    else this.#segments.push({ stream, end: this.#mergedLength });
    return this.#perStream(this.#merged.pushPieces(text));
  }

  /** Splits pieces of the interleaved redaction by stream and passes them through each stream's. */
  #perStream(pieces: readonly RedactedPiece[]): CapturedText[] {
    const out: CapturedText[] = [];
    for (const piece of pieces) {
      let at = piece.at;
      let text = piece.text;
      while (text.length > 0) {
        while ((this.#segments[0]?.end ?? Number.POSITIVE_INFINITY) <= at) this.#segments.shift();
        const segment = this.#segments[0] as Segment;
        // A marker belongs wholly to the stream its secret starts in; raw text is cut where the stream changes.
        const length = piece.redacted ? text.length : Math.min(text.length, segment.end - at);
        const part = text.slice(0, length);
        out.push(...this.#admit(segment.stream, this.#streams[segment.stream].redaction.push(part)));
        text = text.slice(length);
        at += length;
      }
    }
    return out;
  }

  #admit(stream: OutputStream, text: string): CapturedText[] {
    if (text.length === 0 || this.#truncated) return [];
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
    return [{ stream, text, bytes, hitLimit }];
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
