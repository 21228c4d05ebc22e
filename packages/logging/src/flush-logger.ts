import pino from 'pino';
import type { Logger } from './create-logger.js';

/** The part of pino's stdout destination (sonic-boom) that says whether a write is in flight. */
interface AsyncDestination {
  _writing?: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * Resolves once every line `logger` (or its root) has accepted is written, or after `timeoutMs`;
 * call it before `process.exit`. pino's default stdout destination writes asynchronously, and
 * exiting while a write is in flight makes pino's exit hook write the buffered lines first: the
 * last lines come out of order, or the one in flight is lost. `logger.flush()` does not wait for
 * that write. @defaultValue timeoutMs 1000
 */
export function flushLogger(logger: Logger, timeoutMs = 1000): Promise<void> {
  const destination = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | AsyncDestination
    | undefined;
  if (!destination?._writing) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    destination.once('drain', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
