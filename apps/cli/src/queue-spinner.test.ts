import type { StepEvent } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { type Spinner, withQueueSpinner } from './queue-spinner.js';

const base = { stepId: 's', ts: '2025-01-01T00:00:00.000Z' };
const queued: StepEvent = { ...base, seq: 1, type: 'status', status: 'queued' };
const running: StepEvent = { ...base, seq: 2, type: 'status', status: 'running' };
const finished: StepEvent = { ...base, seq: 3, type: 'finished', status: 'succeeded', exitCode: 0 };

/** Events that arrive after the given pauses, ms. */
async function* paced(items: [number, StepEvent][]): AsyncGenerator<StepEvent> {
  for (const [pause, event] of items) {
    await new Promise((resolve) => setTimeout(resolve, pause));
    yield event;
  }
}

function recorder() {
  const log: string[] = [];
  const createSpinner = (text: string): Spinner => {
    const spinner = {
      text,
      start: () => log.push(`start ${spinner.text}`),
      stop: () => log.push('stop'),
    };
    return spinner;
  };
  return { log, createSpinner };
}

describe('withQueueSpinner', () => {
  it('shows “queued… 0s” while the step waits and stops it before the running event is passed on', async () => {
    const { log, createSpinner } = recorder();
    const seen: string[] = [];
    for await (const event of withQueueSpinner(
      paced([
        [0, queued],
        [80, running],
        [0, finished],
      ]),
      { enabled: true, delayMs: 20, createSpinner },
    )) {
      seen.push(`${event.type}:${log.join(',')}`);
    }
    expect(seen).toEqual(['status:', 'status:start queued… 0s,stop', 'finished:start queued… 0s,stop']);
  });

  it('never shows a spinner for a step that starts before the delay', async () => {
    const { log, createSpinner } = recorder();
    for await (const _event of withQueueSpinner(paced([[0, running]]), { enabled: true, createSpinner })) {
      // consumed
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(log).toEqual([]);
  });

  it('shows nothing when disabled (stderr is not a TTY)', async () => {
    const { log, createSpinner } = recorder();
    for await (const _event of withQueueSpinner(
      paced([
        [0, queued],
        [50, running],
      ]),
      { enabled: false, delayMs: 0, createSpinner },
    )) {
      // consumed
    }
    expect(log).toEqual([]);
  });
});
