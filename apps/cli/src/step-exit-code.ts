import { assertNever, type FinishedEvent } from '@sandfleet/contracts';

/** Exit codes of `sandfleet run` and `logs -f` for steps that did not exit by themselves. */
export const EXIT_TIMED_OUT = 124;
export const EXIT_CANCELLED = 130;
export const EXIT_ERROR = 70;

/** The step's own exit code when it ran to an end; otherwise a code per status. */
export function stepExitCode(event: Pick<FinishedEvent, 'status' | 'exitCode'>): number {
  switch (event.status) {
    case 'succeeded':
      return 0;
    case 'failed':
      return event.exitCode && event.exitCode > 0 ? event.exitCode : 1;
    case 'timed_out':
      return EXIT_TIMED_OUT;
    case 'cancelled':
      return EXIT_CANCELLED;
    case 'error':
      return EXIT_ERROR;
    default:
      return assertNever(event.status, 'status');
  }
}
