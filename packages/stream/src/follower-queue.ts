import type { StepEvent } from '@sandfleet/contracts';

/**
 * Live events waiting for one follower, bounded in bytes. When a slow consumer lets more than
 * `maxBytes` pile up, the queue drops them all and turns "lagging": the follower then catches
 * up from the replay stream (which holds the same events) instead of growing without bound.
 * @internal
 */
export class FollowerQueue {
  readonly #maxBytes: number;
  readonly #signal: AbortSignal | undefined;
  #events: ({ event: StepEvent; size: number } | undefined)[] = [];
  #head = 0;
  #bytes = 0;
  #lagging = false;
  #stopped = false;
  #wake: (() => void) | undefined;

  constructor(maxBytes: number, signal?: AbortSignal) {
    this.#maxBytes = maxBytes;
    this.#signal = signal;
    signal?.addEventListener('abort', this.stop, { once: true });
    if (signal?.aborted) this.stop();
  }

  /** Whether the follower must end (aborted, subscriber closed, or finished). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Adds a live event of `size` bytes (its JSON length). */
  push(event: StepEvent, size: number): void {
    if (this.#stopped || this.#lagging) return;
    if (this.#bytes + size > this.#maxBytes) {
      this.markLagging();
      return;
    }
    this.#events.push({ event, size });
    this.#bytes += size;
    this.#wakeUp();
  }

  /** Drops what is queued; the follower must catch up from the replay stream. */
  markLagging(): void {
    this.#events = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#lagging = true;
    this.#wakeUp();
  }

  /** Whether a catch-up is due; clears the flag, so live events are queued again from now on. */
  takeLagging(): boolean {
    const lagging = this.#lagging;
    this.#lagging = false;
    return lagging;
  }

  /** The next live event; `undefined` when stopped or lagging (check `stopped`/`takeLagging`). */
  async next(): Promise<StepEvent | undefined> {
    for (;;) {
      const queued = this.#events[this.#head];
      if (queued) {
        this.#events[this.#head++] = undefined;
        this.#bytes -= queued.size;
        // Compact now and then instead of shift(), which is O(n) per call on long queues.
        if (this.#head >= 1024 && this.#head * 2 >= this.#events.length) {
          this.#events = this.#events.slice(this.#head);
          this.#head = 0;
        }
        return queued.event;
      }
      if (this.#stopped || this.#lagging) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Ends the follower: pending and future `next()` calls return `undefined`. */
  readonly stop = (): void => {
    this.#stopped = true;
    this.#wakeUp();
  };

  /** Detaches from the abort signal. */
  dispose(): void {
    this.#signal?.removeEventListener('abort', this.stop);
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
