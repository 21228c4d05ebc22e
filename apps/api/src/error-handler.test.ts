import { readFileSync } from 'node:fs';
import { ERROR_CODES, type ErrorCode, SandfleetError, ValidationError } from '@sandfleet/contracts';
import { QueueError } from '@sandfleet/queue';
import { describe, expect, it } from 'vitest';
import { errorBody, STATUS_BY_CODE, statusOf, toApiError } from './error-handler.js';
import { ApiError } from './errors.js';

const answer = (error: unknown) => {
  const failure = toApiError(error);
  const status = statusOf(failure.code);
  return { status, body: errorBody(failure, status) };
};

describe('the error handler’s mapping', () => {
  it('maps codes of every package to their status', () => {
    expect(statusOf('VALIDATION_FAILED')).toBe(400);
    expect(statusOf('INVALID_CURSOR')).toBe(400);
    expect(statusOf('UNAUTHORIZED')).toBe(401);
    expect(statusOf('STEP_NOT_FOUND')).toBe(404);
    expect(statusOf('BODY_TOO_LARGE')).toBe(413);
    for (const code of ['DB_UNAVAILABLE', 'QUEUE_UNAVAILABLE', 'ENQUEUE_FAILED', 'NOT_READY']) {
      expect(statusOf(code)).toBe(503);
    }
    expect(statusOf('SOMETHING_NEW')).toBe(500);
  });

  it('answers validation failures with their issues', () => {
    const error = new ValidationError('step spec', [{ path: 'agentId', message: 'must match x' }]);
    expect(answer(error)).toEqual({
      status: 400,
      body: {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'invalid step spec: agentId: must match x',
          issues: [{ path: 'agentId', message: 'must match x' }],
        },
      },
    });
  });

  it('translates Fastify’s body errors', () => {
    expect(
      answer(Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })),
    ).toMatchObject({ status: 413, body: { error: { code: 'BODY_TOO_LARGE' } } });
    expect(answer(Object.assign(new SyntaxError('Unexpected end'), { statusCode: 400 }))).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_BODY' } },
    });
  });

  it('hides internals of unexpected errors and of driver messages', () => {
    expect(answer(new TypeError('x.y is undefined at /srv/app.js:12'))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'internal error' } },
    });
    for (const code of ['QUERY_FAILED', 'SOMETHING_FROM_A_NEWER_PACKAGE'] as ErrorCode[]) {
      expect(answer(new SandfleetError(code, 'secret detail'))).toEqual({
        status: 500,
        body: { error: { code: 'INTERNAL_ERROR', message: 'internal error' } },
      });
    }
    const down = new SandfleetError(
      'DB_UNAVAILABLE',
      'database unavailable: connect ECONNREFUSED 10.0.0.5:5432',
    );
    expect(answer(down).body.error.message).toBe('database unavailable; try again');
  });

  it('answers a Redis outage by the queue’s code, never by reading message text', () => {
    const down = new QueueError('QUEUE_UNAVAILABLE', 'the steps queue is unreachable (Redis)', {
      cause: new Error('Connection is closed.'),
      retryable: true,
    });
    expect(answer(down)).toMatchObject({ status: 503, body: { error: { code: 'QUEUE_UNAVAILABLE' } } });
    expect(answer(new Error('Connection is closed.'))).toMatchObject({
      status: 500,
      body: { error: { code: 'INTERNAL_ERROR' } },
    });
  });

  it('carries an API error’s details', () => {
    const error = new ApiError('NOT_READY', 'not ready: redis unreachable', {
      details: { checks: { redis: 'x' } },
    });
    expect(answer(error).body.error.details).toEqual({ checks: { redis: 'x' } });
  });
});

/** Rows of the error-code table of docs/design.md: code → HTTP status. */
function documentedStatuses(): Map<string, number> {
  const design = readFileSync(new URL('../../../docs/design.md', import.meta.url), 'utf8');
  const section = design.slice(design.indexOf('## Error codes'));
  const rows = new Map<string, number>();
  for (const match of section.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*(\d{3})\s*\|/gm)) {
    rows.set(match[1] as string, Number(match[2]));
  }
  return rows;
}

describe('the error-code catalogue', () => {
  it('gives every code a status, and no code outside the catalogue', () => {
    expect(Object.keys(STATUS_BY_CODE).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES)
      expect([400, 401, 403, 404, 409, 413, 415, 429, 500, 503]).toContain(statusOf(code));
  });

  it('has one line per code in the error-code table of docs/design.md, with its status', () => {
    const documented = documentedStatuses();
    expect([...documented.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES)
      expect({ code, status: documented.get(code) }).toEqual({ code, status: statusOf(code) });
  });
});
