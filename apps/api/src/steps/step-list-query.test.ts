import { ValidationError } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { parseStepListQuery } from './step-list-query.js';

const issuesOf = (query: Record<string, unknown>) => {
  try {
    parseStepListQuery(query);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((issue) => issue.path);
    throw error;
  }
  return [];
};

describe('parseStepListQuery', () => {
  it('turns every parameter into the list filter', () => {
    expect(
      parseStepListQuery({
        status: 'running',
        agentId: 'alice',
        runId: 'run-1',
        label: 'team:infra:eu',
        createdAfter: '2025-01-31T12:00:00Z',
        createdBefore: '2025-02-01',
        limit: '3',
        cursor: 'abc',
      }),
    ).toEqual({
      status: 'running',
      agentId: 'alice',
      runId: 'run-1',
      label: { key: 'team', value: 'infra:eu' },
      createdAfter: new Date('2025-01-31T12:00:00Z'),
      createdBefore: new Date('2025-02-01T00:00:00Z'),
      limit: 3,
      cursor: 'abc',
    });
    expect(parseStepListQuery({})).toEqual({ limit: 50 });
  });

  it('names every bad, repeated or unknown parameter', () => {
    expect(
      issuesOf({
        status: 'done',
        label: 'nokey',
        createdAfter: 'yesterday',
        limit: '501',
        agentId: ['a', 'b'],
        sort: 'asc',
      }),
    ).toEqual(['sort', 'status', 'agentId', 'label', 'createdAfter', 'limit']);
    expect(issuesOf({ limit: '0' })).toEqual(['limit']);
    expect(issuesOf({ createdBefore: '2025-02-30T00:00:00Z' })).toEqual(['createdBefore']);
  });
});
