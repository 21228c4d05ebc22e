import { describe, expect, it } from 'vitest';
import { StepEvent } from './step-event.js';
import { isTerminalStatus, StepStatus } from './step-status.js';

const stamp = { stepId: 'step-1', seq: 1, ts: '2025-01-01T00:00:00.000Z' };

const events = [
  { ...stamp, type: 'status', status: 'running', attempt: 1, workerId: 'w-1' },
  { ...stamp, type: 'output', stream: 'stdout', data: 'hello\n' },
  { ...stamp, type: 'truncated', limitBytes: 1024 },
  { ...stamp, type: 'runtime', name: 'workspace.ready', data: { path: '/home/agent/run-workspace' } },
  { ...stamp, type: 'finished', status: 'succeeded', exitCode: 0, durationMs: 12 },
  { ...stamp, type: 'finished', status: 'timed_out', exitCode: null, error: 'timeout' },
];

describe('StepEvent', () => {
  it.each(events.map((event) => [event.type, event] as const))('parses a %s event', (_type, event) => {
    expect(StepEvent.parse(event)).toEqual(event);
  });

  it('rejects an unknown event type', () => {
    expect(StepEvent.safeParse({ ...stamp, type: 'progress' }).success).toBe(false);
  });

  it('rejects a seq below 1, since seq starts at 1', () => {
    expect(StepEvent.safeParse({ ...stamp, seq: 0, type: 'status', status: 'queued' }).success).toBe(false);
  });

  it('rejects a finished event with a non-terminal status', () => {
    expect(StepEvent.safeParse({ ...stamp, type: 'finished', status: 'running', exitCode: 0 }).success).toBe(
      false,
    );
  });

  it('rejects output on a stream other than stdout or stderr', () => {
    expect(StepEvent.safeParse({ ...stamp, type: 'output', stream: 'stdin', data: '' }).success).toBe(false);
  });
});

describe('StepStatus', () => {
  it('has the contract statuses, of which all but queued and running are terminal', () => {
    expect(StepStatus.options).toEqual([
      'queued',
      'running',
      'succeeded',
      'failed',
      'timed_out',
      'cancelled',
      'error',
    ]);
    expect(StepStatus.options.filter(isTerminalStatus)).toEqual([
      'succeeded',
      'failed',
      'timed_out',
      'cancelled',
      'error',
    ]);
  });
});
