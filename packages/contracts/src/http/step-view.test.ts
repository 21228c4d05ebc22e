import { describe, expect, it } from 'vitest';
import { httpJsonSchema } from './http-json-schema.js';
import { StepListPage } from './step-list-page.js';
import { STEP_INSTANT_FIELDS, StepSummaryView, StepView } from './step-view.js';

const T = '2025-01-01T00:00:00.000Z';

/** A step as the API serves it: a row with Dates, through JSON. */
const served = (extra: Record<string, unknown> = {}) =>
  JSON.parse(
    JSON.stringify({
      id: 's1',
      agentId: 'alice',
      kind: 'task',
      status: 'succeeded',
      image: null,
      imageId: 'sha256:abc',
      command: { script: 'echo hi', shell: 'sh' },
      runId: null,
      taskId: null,
      chatSessionId: null,
      labels: { team: 'a' },
      priority: null,
      attempts: 1,
      maxAttempts: 3,
      workerId: 'w1',
      exitCode: 0,
      oomKilled: false,
      outputBytes: 3,
      outputTruncated: false,
      error: null,
      errorCode: null,
      cancelRequestedAt: null,
      createdAt: new Date(T),
      startedAt: new Date(T),
      finishedAt: new Date(T),
      durationMs: 12,
      updatedAt: new Date(T),
      producer: null,
      output: 'hi\n',
      spec: { agentId: 'alice', command: ['true'] },
      result: null,
      ...extra,
    }),
  ) as Record<string, unknown>;

describe('StepView', () => {
  it('reads a row as the API serves it, unchanged', () => {
    const body = served();
    expect(StepView.parse(body)).toEqual(body);
    const { output: _o, spec: _s, result: _r, ...summary } = body;
    expect(StepListPage.parse({ items: [summary], nextCursor: null })).toEqual({
      items: [summary],
      nextCursor: null,
    });
  });

  it('refuses a row missing a field or with a field of the wrong type, naming it', () => {
    const { status: _status, ...noStatus } = served();
    expect(StepView.safeParse(noStatus).error?.issues[0]?.path).toEqual(['status']);
    expect(StepView.safeParse(served({ attempts: '1' })).error?.issues[0]?.path).toEqual(['attempts']);
    expect(StepView.safeParse(served({ createdAt: 'yesterday' })).error?.issues[0]?.path).toEqual([
      'createdAt',
    ]);
  });

  it('lists each instant field, all ISO-8601 strings in the JSON Schema', () => {
    const properties = httpJsonSchema(StepSummaryView).properties as Record<string, Record<string, unknown>>;
    for (const field of STEP_INSTANT_FIELDS) expect(JSON.stringify(properties[field])).toContain('date-time');
    const timeLike = Object.keys(properties).filter((name) => name.endsWith('At'));
    expect(timeLike.sort()).toEqual([...STEP_INSTANT_FIELDS].sort());
  });

  it('has a JSON Schema that requires every field and leaves objects open', () => {
    const schema = httpJsonSchema(StepView, 'a step');
    expect(schema.$schema).toBeUndefined();
    expect(schema.description).toBe('a step');
    expect(schema.additionalProperties).toBeUndefined();
    expect(schema.required).toEqual(Object.keys(StepView.shape));
  });
});
