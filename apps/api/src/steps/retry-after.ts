import { SandfleetError } from '@sandfleet/contracts';
import type { FastifyReply } from 'fastify';

/**
 * Runs `work`; a refusal carrying `context.retryAfterSeconds` (a token's quota, `RATE_LIMITED`)
 * sets `Retry-After` on `reply` before the error handler answers it.
 */
export async function withRetryAfter<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const seconds = error instanceof SandfleetError ? error.context.retryAfterSeconds : undefined;
    if (typeof seconds === 'number') reply.header('retry-after', String(seconds));
    throw error;
  }
}
