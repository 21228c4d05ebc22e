import type { StepSummary } from '@sandfleet/client';
import { describe, expect, it } from 'vitest';
import { formatDuration, formatStepTable } from './step-table.js';

describe('formatDuration', () => {
  it.each([
    [null, '-'],
    [850, '850ms'],
    [4210, '4.2s'],
    [187_000, '3m07s'],
    [7_500_000, '2h05m'],
  ])('shows %j ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatStepTable', () => {
  it('aligns id, agent, status, exit, created and duration under a header', () => {
    const step = (id: string, extra: Partial<StepSummary>) =>
      ({ id, agentId: 'alice', status: 'succeeded', exitCode: 0, durationMs: 1500, ...extra }) as StepSummary;
    const table = formatStepTable([
      step('s-1', { createdAt: '2025-01-31T12:00:05.123Z' }),
      step('a-longer-id', {
        agentId: 'bob',
        status: 'running',
        exitCode: null,
        durationMs: null,
        createdAt: '2025-01-31T12:01:00.000Z',
      }),
    ]);
    expect(table).toBe(
      [
        'ID           AGENT  STATUS     EXIT  CREATED              DURATION',
        's-1          alice  succeeded  0     2025-01-31 12:00:05  1.5s',
        'a-longer-id  bob    running    -     2025-01-31 12:01:00  -',
        '',
      ].join('\n'),
    );
  });
});
