import { isConnectionError } from '@sandfleet/db';
import type { Logger } from '@sandfleet/logging';

/** Options of {@link recordUntilStored}. */
export interface RecordUntilStoredOptions {
  /** What is being written, for the log (`step outcome`, `chat reply`, …). */
  what: string;
  logger: Logger;
  /** Aborted when the worker must stop: the write is then given up and its error thrown. */
  stopping?: AbortSignal;
  /** First wait after a failed write, ms; doubles up to {@link maxDelayMs}. @defaultValue 100 */
  initialDelayMs?: number;
  /** @defaultValue 5000 */
  maxDelayMs?: number;
  /** Called before each wait, with the failure (metrics). */
  onRetry?: (error: unknown) => void;
}

/**
 * Runs a PostgreSQL write until it succeeds, waiting with exponential backoff while the database
 * is unreachable (connection refused, reset, server shutting down): a step whose container has
 * finished keeps its outcome in memory instead of being run again. Any other error, and the
 * worker's stop, end the wait with the error.
 */
export async function recordUntilStored<T>(
  write: () => Promise<T>,
  options: RecordUntilStoredOptions,
): Promise<T> {
  const maxDelayMs = options.maxDelayMs ?? 5000;
  let delayMs = options.initialDelayMs ?? 100;
  let failures = 0;
  for (;;) {
    try {
      const stored = await write();
      if (failures > 0)
        options.logger.info({ what: options.what, failures }, 'database answers again; recorded');
      return stored;
    } catch (error) {
      if (!isConnectionError(error) || options.stopping?.aborted) throw error;
      failures += 1;
      options.onRetry?.(error);
      if (failures === 1 || failures % 10 === 0)
        options.logger.warn(
          { err: error, what: options.what, failures },
          'database unreachable; retrying the write',
        );
      await sleep(delayMs, options.stopping);
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
