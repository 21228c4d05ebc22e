import type { StepEvent } from '@sandfleet/contracts';

/** Wait before the spinner shows, so a step that starts at once does not flash one. */
export const SPINNER_DELAY_MS = 250;

/** The part of an ora spinner used here. */
export interface Spinner {
  text: string;
  start(): unknown;
  stop(): unknown;
}

/** Options of {@link withQueueSpinner}. */
export interface QueueSpinnerOptions {
  /** Where the spinner draws. @defaultValue `process.stderr` */
  stream?: NodeJS.WriteStream;
  /**
   * Whether to show it. @defaultValue when `stream` is a terminal with a width (a pty without a
   * size, as `script` makes, sends ora's line counting astray) and TERM is not `dumb`
   */
  enabled?: boolean;
  /** @defaultValue {@link SPINNER_DELAY_MS} */
  delayMs?: number;
  /** Makes the spinner (tests). @defaultValue an ora spinner on `stream` */
  createSpinner?: (text: string) => Spinner;
}

/**
 * Passes a step's events through while showing `queued… 3s` on stderr as long as the step waits
 * in the queue: the spinner goes at the first event that is not the `queued` status (running,
 * output, finished…), before that event is printed, and when the events end.
 */
export async function* withQueueSpinner(
  events: AsyncIterable<StepEvent>,
  options: QueueSpinnerOptions = {},
): AsyncGenerator<StepEvent, void, undefined> {
  const stream = options.stream ?? process.stderr;
  const enabled =
    options.enabled ?? (stream.isTTY === true && (stream.columns ?? 0) > 0 && process.env.TERM !== 'dumb');
  if (!enabled) {
    yield* events;
    return;
  }
  // Loaded only for a terminal: it is a fifth of the CLI's start-up time.
  const createSpinner = options.createSpinner ?? (await oraSpinners(stream));
  const since = Date.now();
  const text = () => `queued… ${Math.floor((Date.now() - since) / 1000)}s`;
  let spinner: Spinner | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const shower = setTimeout(() => {
    spinner = createSpinner(text());
    spinner.start();
    ticker = setInterval(() => {
      if (spinner) spinner.text = text();
    }, 1000);
  }, options.delayMs ?? SPINNER_DELAY_MS);
  let waiting = true;
  const stop = () => {
    if (!waiting) return;
    waiting = false;
    clearTimeout(shower);
    clearInterval(ticker);
    spinner?.stop();
  };
  try {
    for await (const event of events) {
      if (waiting && !(event.type === 'status' && event.status === 'queued')) stop();
      yield event;
    }
  } finally {
    stop();
  }
}

async function oraSpinners(stream: NodeJS.WriteStream): Promise<(text: string) => Spinner> {
  const { default: ora } = await import('ora');
  // discardStdin: false keeps Ctrl-C working as a plain SIGINT.
  return (text) => ora({ text, stream, discardStdin: false });
}
