import * as z from 'zod';

/** Every status a step can be in; the contract names of docs/design.md. */
export const StepStatus = z.enum([
  'queued',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'error',
]);
export type StepStatus = z.infer<typeof StepStatus>;

/** Statuses a step never leaves. */
export const TerminalStatus = z.enum(['succeeded', 'failed', 'timed_out', 'cancelled', 'error']);
export type TerminalStatus = z.infer<typeof TerminalStatus>;

/** {@link TerminalStatus} values, in contract order. */
export const TERMINAL_STATUSES: readonly TerminalStatus[] = TerminalStatus.options;

/** Whether `status` is one a step never leaves. */
export function isTerminalStatus(status: string): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Exhaustiveness guard for `switch` over discriminated unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
