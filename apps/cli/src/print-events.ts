import type { StepEvent } from '@sandfleet/contracts';
import { stepExitCode } from './step-exit-code.js';

export interface PrintEventsOptions {
  /** Print every event as a JSON line instead of the step's output. */
  json?: boolean;
  /** Print status changes to stderr. */
  verbose?: boolean;
}

/**
 * Writes a step's events to the terminal: output to stdout/stderr as the step wrote it, a note on
 * stderr for truncation and for any ending other than success. Returns the exit code to use, or
 * undefined when the events ended without `finished`.
 */
export async function printEvents(
  events: AsyncIterable<StepEvent>,
  options: PrintEventsOptions = {},
): Promise<number | undefined> {
  for await (const event of events) {
    if (options.json) {
      await write(process.stdout, `${JSON.stringify(event)}\n`);
      if (event.type === 'finished') return stepExitCode(event);
      continue;
    }
    switch (event.type) {
      case 'output':
        await write(event.stream === 'stdout' ? process.stdout : process.stderr, event.data);
        break;
      case 'truncated':
        await write(process.stderr, `\n[sandfleet] output truncated at ${event.limitBytes} bytes\n`);
        break;
      case 'status':
        if (options.verbose)
          await write(
            process.stderr,
            `[sandfleet] ${event.status}${event.message ? `: ${event.message}` : ''}\n`,
          );
        break;
      case 'runtime':
        if (options.verbose) await write(process.stderr, `[sandfleet] ${event.name}\n`);
        break;
      case 'finished':
        if (event.status !== 'succeeded') {
          const detail = event.error
            ? `: ${event.error}`
            : event.status === 'failed' && event.exitCode !== null
              ? ` (exit code ${event.exitCode})`
              : '';
          await write(
            process.stderr,
            `[sandfleet] step ${event.status.replace('_', ' ')}${event.oomKilled ? ' (out of memory)' : ''}${detail}\n`,
          );
        }
        return stepExitCode(event);
    }
  }
  return undefined;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', resolve);
  });
}
