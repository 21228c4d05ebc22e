import type { StepEvent } from '@sandfleet/contracts';
import { ControlEscaper, escapeControls } from './control-escaper.js';
import { stepExitCode } from './step-exit-code.js';

export interface PrintEventsOptions {
  /** Print every event as a JSON line instead of the step's output. */
  json?: boolean;
  /** Print status changes to stderr. */
  verbose?: boolean;
  /**
   * Print the step's output as it wrote it, terminal escapes and all. Otherwise control
   * characters show escaped (`\x1b]52;…`), except newline, tab and, on a terminal, colours.
   */
  raw?: boolean;
}

/** Turns a stream's text into what may reach the terminal. */
interface OutputFilter {
  write(text: string): string;
  end(): string;
}

const AS_IS: OutputFilter = { write: (text) => text, end: () => '' };

function outputFilter(stream: NodeJS.WriteStream, raw: boolean | undefined): OutputFilter {
  return raw ? AS_IS : new ControlEscaper({ keepSgr: stream.isTTY === true });
}

// JSON.stringify escapes C0 controls but leaves DEL and C1 (8-bit CSI, OSC) as they are.
const JSON_UNESCAPED_CONTROL = /[\x7f-\x9f]/g;
const jsonLine = (event: StepEvent, raw: boolean | undefined) => {
  const json = JSON.stringify(event);
  return `${raw ? json : json.replace(JSON_UNESCAPED_CONTROL, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}\n`;
};

/** Writes a step's stored output (the fallback once its events expired), escaped as {@link printEvents}. */
export async function printOutput(
  text: string,
  options: Pick<PrintEventsOptions, 'raw'> = {},
): Promise<void> {
  const filter = outputFilter(process.stdout, options.raw);
  await write(process.stdout, filter.write(text) + filter.end());
}

/**
 * Writes a step's events to the terminal: output to stdout/stderr (control characters escaped
 * unless `raw`), a note on stderr for truncation and for any ending other than success. Returns the exit code to use, or
 * undefined when the events ended without `finished`.
 */
export async function printEvents(
  events: AsyncIterable<StepEvent>,
  options: PrintEventsOptions = {},
): Promise<number | undefined> {
  const filters = {
    stdout: outputFilter(process.stdout, options.raw),
    stderr: outputFilter(process.stderr, options.raw),
  };
  const note = options.raw ? (text: string) => text : escapeControls;
  const flush = async () => {
    await write(process.stdout, filters.stdout.end());
    await write(process.stderr, filters.stderr.end());
  };
  for await (const event of events) {
    if (options.json) {
      await write(process.stdout, jsonLine(event, options.raw));
      if (event.type === 'finished') return stepExitCode(event);
      continue;
    }
    switch (event.type) {
      case 'output':
        await write(process[event.stream], filters[event.stream].write(event.data));
        break;
      case 'truncated':
        await flush();
        await write(process.stderr, `\n[sandfleet] output truncated at ${event.limitBytes} bytes\n`);
        break;
      case 'status':
        if (options.verbose)
          await write(
            process.stderr,
            `[sandfleet] ${event.status}${event.message ? `: ${note(event.message)}` : ''}\n`,
          );
        break;
      case 'runtime':
        if (options.verbose) await write(process.stderr, `[sandfleet] ${note(event.name)}\n`);
        break;
      case 'finished':
        await flush();
        if (event.status !== 'succeeded') {
          const detail = event.error
            ? `: ${note(event.error)}`
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
  await flush();
  return undefined;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (text === '') return Promise.resolve();
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', resolve);
  });
}
