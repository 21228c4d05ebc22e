import type { Readable } from 'node:stream';
import type { SandboxRunHooks } from '../sandbox.js';
import { OutputDemuxer } from './output-demuxer.js';

/** How the pump ended. */
export type PumpOutcome =
  | { kind: 'ended'; complete: boolean }
  | { kind: 'hook-failed'; error: unknown }
  | { kind: 'stream-failed'; error: unknown };

/**
 * Reads a container's attach stream and hands each piece to `onOutput`, awaiting it before the
 * next read: the stream is paused while a hook is pending, so the engine (and ultimately the
 * container's writes) are held back instead of the worker buffering output in memory.
 */
export class OutputPump {
  /** Settles once reading stops; never rejects. */
  readonly done: Promise<PumpOutcome>;
  private lastProgress = performance.now();
  private abandoned = false;

  constructor(
    private readonly stream: Readable,
    private readonly onOutput: SandboxRunHooks['onOutput'],
  ) {
    this.done = this.pump();
  }

  /**
   * Waits for the stream to end after the container exited. Gives up when nothing moved (no chunk
   * read, no hook finished) for `idleMs`, then drops the stream and resolves undefined.
   */
  async drain(idleMs: number): Promise<PumpOutcome | undefined> {
    for (;;) {
      const idleLeft = idleMs - (performance.now() - this.lastProgress);
      if (idleLeft <= 0) {
        this.abandon();
        return undefined;
      }
      const outcome = await settleWithin(this.done, idleLeft);
      if (outcome) return outcome;
    }
  }

  /** Stops delivering output and releases the stream. */
  abandon(): void {
    this.abandoned = true;
    this.stream.destroy();
  }

  private async pump(): Promise<PumpOutcome> {
    const demuxer = new OutputDemuxer();
    try {
      for await (const chunk of this.stream as AsyncIterable<Buffer>) {
        this.lastProgress = performance.now();
        for (const piece of demuxer.push(chunk)) {
          if (this.abandoned) return { kind: 'ended', complete: false };
          try {
            const pending = this.onOutput(piece.stream, piece.data);
            if (pending) await pending;
          } catch (error) {
            return { kind: 'hook-failed', error };
          }
          this.lastProgress = performance.now();
        }
      }
      return { kind: 'ended', complete: !this.abandoned && demuxer.atBoundary };
    } catch (error) {
      if (this.abandoned) return { kind: 'ended', complete: false };
      return { kind: 'stream-failed', error };
    } finally {
      this.stream.destroy();
    }
  }
}

/** `promise`'s value, or undefined if it has not settled within `ms`. */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
