import { isTerminalStatus, type StepEvent } from '@sandfleet/contracts';
import type { StepBackend } from './backend/step-backend.js';
import { type PrintEventsOptions, printEvents, printOutput } from './print-events.js';
import { withQueueSpinner } from './queue-spinner.js';
import { stepExitCode } from './step-exit-code.js';

/**
 * Prints a step's events until it finishes (a `queued…` spinner on a terminal while it waits) and
 * returns the exit code for it. When the events end without `finished` (the step ended long ago
 * and its events expired), the code comes from its recorded status, and its stored output is
 * printed if no event was. 1 when the step has not ended.
 */
export async function followStep(
  steps: StepBackend,
  id: string,
  afterSeq: number,
  options: PrintEventsOptions,
): Promise<number> {
  let seen = 0;
  async function* counted(events: AsyncIterable<StepEvent>): AsyncGenerator<StepEvent> {
    for await (const event of events) {
      seen += 1;
      yield event;
    }
  }
  const code = await printEvents(counted(withQueueSpinner(steps.follow(id, afterSeq))), options);
  if (code !== undefined) return code;
  const step = await steps.get(id);
  if (!step || !isTerminalStatus(step.status)) return 1;
  if (seen === 0 && !options.json) await printOutput(step.output, options);
  return stepExitCode({ status: step.status, exitCode: step.exitCode });
}
