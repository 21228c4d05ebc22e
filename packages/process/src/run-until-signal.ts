import { ConfigError } from '@sandfleet/config';
import { flushLogger, type Logger } from '@sandfleet/logging';

/** Exit codes of a Sandfleet process. */
export const EXIT_CODES = {
  /** Stopped cleanly after a signal. */
  stopped: 0,
  /** Start or stop failed, a second signal came, or the stop passed its deadline. */
  failed: 1,
  /** The configuration is invalid (a `ConfigError`): the operator's to fix, retrying will not help. */
  invalidConfig: 2,
} as const;

/** Signals that stop a process: a service manager sends SIGTERM, a terminal's Ctrl-C SIGINT. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** What {@link runUntilSignal} starts: anything with an idempotent `close()`. */
export interface Closable {
  close(): Promise<void>;
}

/** Options of {@link runUntilSignal}. */
export interface RunUntilSignalOptions<T extends Closable> {
  /** Receives one line per lifecycle event; errors are logged as `{ err, code }`. */
  logger: Logger;
  /** Starts the process's work; what it resolves to is closed on the first signal. */
  start: () => Promise<T>;
  /**
   * How long the graceful stop may take from the first signal, ms; past it the process exits
   * with {@link EXIT_CODES}.failed. Keep it below the orchestrator's kill deadline (Compose
   * `stop_grace_period`, Kubernetes `terminationGracePeriodSeconds`) so the log says why.
   */
  deadlineMs: number;
  /** @defaultValue {@link STOP_SIGNALS} */
  signals?: readonly NodeJS.Signals[];
}

/** The stable `code` of an error (a `SandfleetError`'s, or Node's `EADDRINUSE`…), if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Starts a process's work and runs it until SIGTERM/SIGINT. The first signal closes it: exit 0
 * once `close()` resolves, 1 if it rejects or outlasts `deadlineMs`. A second signal exits 1 at
 * once, without waiting. A signal that arrives during start-up closes the work as soon as it has
 * started.
 *
 * When `start` rejects, the failure is logged (`fatal`, with its code), `process.exitCode` is set
 * (2 for a `ConfigError`, else 1) and the promise resolves to `undefined`; whatever `start` opened
 * it must close itself. Otherwise it resolves to the started work once running.
 */
export async function runUntilSignal<T extends Closable>(
  options: RunUntilSignalOptions<T>,
): Promise<T | undefined> {
  const { logger, deadlineMs } = options;
  const signals = options.signals ?? STOP_SIGNALS;
  let stopping = false;
  let started: Promise<T> | undefined;

  // Without the flush, process.exit drops or reorders the last lines (pino writes asynchronously).
  const exit = (code: number): void => {
    void flushLogger(logger).then(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without a graceful stop');
      exit(EXIT_CODES.failed);
      return;
    }
    stopping = true;
    logger.info({ signal, deadlineMs }, 'stopping');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs }, 'stop passed its deadline: exiting');
      exit(EXIT_CODES.failed);
    }, deadlineMs);
    started?.then(
      (work) =>
        work.close().then(
          () => {
            clearTimeout(deadline);
            logger.info('stopped');
            exit(EXIT_CODES.stopped);
          },
          (err: unknown) => {
            clearTimeout(deadline);
            logger.error({ err, code: errorCode(err) }, 'stop failed');
            exit(EXIT_CODES.failed);
          },
        ),
      // A start that fails is reported below; nothing was started that needs closing.
      () => clearTimeout(deadline),
    );
  };

  // Listening before start-up: a signal during it must not kill the process half-started.
  for (const signal of signals) process.on(signal, onSignal);
  started = (async () => options.start())();
  try {
    return await started;
  } catch (error) {
    for (const signal of signals) process.off(signal, onSignal);
    logger.fatal({ err: error, code: errorCode(error) }, 'start failed');
    process.exitCode = error instanceof ConfigError ? EXIT_CODES.invalidConfig : EXIT_CODES.failed;
    return undefined;
  }
}
