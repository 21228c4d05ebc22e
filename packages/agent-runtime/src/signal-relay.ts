import { constants } from 'node:os';

/** Signals the runtime passes on (`docker stop` sends SIGTERM; a terminal sends SIGINT, SIGHUP). */
export const RELAYED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** Where process signals come from (the process itself, or a fake in tests). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Catches the runtime's stop signals for the whole run: each is passed to the command while it
 * runs, and aborts the runtime's own work (git) at any time, so a stopped container ends promptly
 * and without a push after a stop. Handlers stay installed until `close()`: as PID 1 without
 * an init process, a signal without a handler would be ignored.
 */
export class SignalRelay {
  readonly #source: SignalSource;
  readonly #controller = new AbortController();
  #target: ((signal: NodeJS.Signals) => void) | undefined;
  #received: NodeJS.Signals | undefined;
  readonly #listener = (signal: NodeJS.Signals): void => {
    this.#received ??= signal;
    this.#target?.(signal);
    this.#controller.abort();
  };

  constructor(source: SignalSource) {
    this.#source = source;
    for (const signal of RELAYED_SIGNALS) source.on(signal, this.#listener);
  }

  /** Aborted at the first signal. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The first signal received, if any. */
  get received(): NodeJS.Signals | undefined {
    return this.#received;
  }

  /** The exit code of a process ended by the first signal received (128 + its number). */
  get exitCode(): number | undefined {
    return this.#received === undefined ? undefined : 128 + constants.signals[this.#received];
  }

  /** Passes the signals received from now on to `target` (undefined: no longer). */
  forwardTo(target: ((signal: NodeJS.Signals) => void) | undefined): void {
    this.#target = target;
  }

  close(): void {
    for (const signal of RELAYED_SIGNALS) this.#source.off(signal, this.#listener);
  }
}
