import type { OutputStream } from '@sandfleet/contracts';

/** A piece of output of one stream; `data` may share memory with the input chunk. */
export interface OutputPiece {
  stream: OutputStream;
  data: Buffer;
}

const HEADER_BYTES = 8;
const STREAM_BY_TYPE: Record<number, OutputStream | undefined> = { 1: 'stdout', 2: 'stderr' };

/**
 * Splits Docker's multiplexed attach stream (non-TTY) into stdout and stderr pieces. Each frame
 * is an 8-byte header (stream type, 3 zero bytes, big-endian payload length) and the payload.
 * Payloads are emitted as they arrive rather than buffered per frame, so memory stays bounded by
 * the chunk size; only a split header is copied. Frames of other types (stdin echo) are dropped.
 */
export class OutputDemuxer {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private remaining = 0;
  private stream: OutputStream | undefined;

  /** Pieces carried by `chunk`, in order. */
  push(chunk: Buffer): OutputPiece[] {
    const pieces: OutputPiece[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < HEADER_BYTES) break;
        this.headerFill = 0;
        this.stream = STREAM_BY_TYPE[this.header.readUInt8(0)];
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      if (this.stream) pieces.push({ stream: this.stream, data: chunk.subarray(offset, offset + take) });
      this.remaining -= take;
      offset += take;
    }
    return pieces;
  }

  /** Whether the stream stopped at a frame boundary (nothing half-read). */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerFill === 0;
  }
}
