import { SandfleetError, ValidationError } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { errorBody, statusOf, toApiError } from './error-handler.js';
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
    expect(answer(new SandfleetError('WHATEVER', 'secret detail'))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'internal error' } },
    });
    const down = new SandfleetError(
      'DB_UNAVAILABLE',
      'database unavailable: connect ECONNREFUSED 10.0.0.5:5432',
    );
    expect(answer(down).body.error.message).toBe('database unavailable; try again');
    expect(answer(new Error('Connection is closed.')).body.error.code).toBe('QUEUE_UNAVAILABLE');
  });

  it('carries an API error’s details', () => {
    const error = new ApiError('NOT_READY', 'not ready: redis unreachable', {
      details: { checks: { redis: 'x' } },
    });
    expect(answer(error).body.error.details).toEqual({ checks: { redis: 'x' } });
  });
});
