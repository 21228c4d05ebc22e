/**
 * A sweep run now and then in the background (`start`), or on demand (`run`): concurrent runs
 * share the one in progress, and `stop` waits for it. The sweep itself must not throw.
 */
export class PeriodicSweep<T> {
  readonly #sweep: () => Promise<T>;
  readonly #intervalMs: number;
  #timer?: NodeJS.Timeout;
  #running?: Promise<T>;

  constructor(sweep: () => Promise<T>, intervalMs: number) {
    this.#sweep = sweep;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#timer = setInterval(() => void this.run(), this.#intervalMs);
    this.#timer.unref();
  }

  run(): Promise<T> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
