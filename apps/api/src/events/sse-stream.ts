import { once } from 'node:events';
import { PassThrough } from 'node:stream';

/** Response headers of a Server-Sent Events stream (no caching, no proxy buffering). */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const;

/**
 * The body of one SSE response. `event()` waits while the client reads slower than events come
 * (backpressure, so memory stays bounded); comments (heartbeats) are skipped while it is behind.
 */
export class SseStream {
  /** Send this as the response body. */
  readonly body = new PassThrough();
  #ended = false;

  constructor() {
    this.body.once('close', () => {
      this.#ended = true;
    });
  }

  /** Whether the stream ended or the client went away. */
  get ended(): boolean {
    return this.#ended || this.body.destroyed;
  }

  /** Writes `id`, `event` and one `data` line (JSON has no raw newlines). */
  async event(id: number, type: string, data: string): Promise<void> {
    if (this.ended) return;
    if (!this.body.write(`id: ${id}\nevent: ${type}\ndata: ${data}\n\n`)) {
      await Promise.race([once(this.body, 'drain'), once(this.body, 'close')]).catch(() => undefined);
    }
  }

  /** Writes a comment line (`: text`), which clients ignore: heartbeats, diagnostics. */
  comment(text: string): void {
    if (this.ended || this.body.writableNeedDrain) return;
    this.body.write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
  }

  /** Ends the response. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.#ended = true;
    this.body.end();
  }

  /** Drops the stream (the client went away): a writer waiting for `drain` is released. */
  destroy(): void {
    this.#ended = true;
    this.body.destroy();
  }
}
