import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../auth/session-cookie.js';
import { ApiError } from '../errors.js';

/** Caps on open event streams. */
export interface SseLimitsOptions {
  /** Streams one credential may hold open at once. @defaultValue {@link DEFAULT_SSE_LIMITS} (50) */
  maxPerToken?: number;
  /** Streams the API holds open at once. @defaultValue {@link DEFAULT_SSE_LIMITS} (1000) */
  maxTotal?: number;
}

/** What `SANDFLEET_API_SSE_MAX_PER_TOKEN` and `SANDFLEET_API_SSE_MAX_TOTAL` default to. */
export const DEFAULT_SSE_LIMITS = { maxPerToken: 50, maxTotal: 1000 } as const;

/** `Retry-After` of a refused stream, seconds: streams end as their steps finish. */
export const SSE_RETRY_AFTER_SECONDS = 5;

/** An open stream's place under the caps; `release()` is idempotent. */
export interface SseSlot {
  release(): void;
}

/**
 * Who a stream counts against: the authenticated token's name (so a token counts once, by bearer
 * or through any of its sign-in sessions), else — with no auth configured — the SHA-256 of the
 * credential presented; no token is kept.
 */
export function credentialKey(request: FastifyRequest): string {
  if (request.principal) return `token:${request.principal.name}`;
  const bearer = request.headers.authorization?.match(/^Bearer[ \t]+(\S+)/i)?.[1];
  const credential = bearer ?? request.cookies?.[SESSION_COOKIE] ?? '';
  return createHash('sha256').update(credential, 'utf8').digest('hex');
}

/**
 * Counts open event streams per credential and in total. Past a cap a new stream is refused with
 * 429 `RATE_LIMITED` and `Retry-After`, before it costs a lookup, a subscription or a socket's
 * buffers: each open stream holds a follower of the step's events (up to its live buffer).
 */
export class SseLimits {
  readonly maxPerToken: number;
  readonly maxTotal: number;
  readonly #byKey = new Map<string, number>();
  #total = 0;

  constructor(options: SseLimitsOptions = {}) {
    this.maxPerToken = options.maxPerToken ?? DEFAULT_SSE_LIMITS.maxPerToken;
    this.maxTotal = options.maxTotal ?? DEFAULT_SSE_LIMITS.maxTotal;
  }

  /** Streams open now. */
  get open(): number {
    return this.#total;
  }

  /**
   * Takes a slot for the request's credential.
   * @throws ApiError `RATE_LIMITED` (with `Retry-After` set on `reply`) past either cap.
   */
  take(request: FastifyRequest, reply: FastifyReply): SseSlot {
    const key = credentialKey(request);
    const held = this.#byKey.get(key) ?? 0;
    const refusal =
      held >= this.maxPerToken
        ? `this token has ${held} event streams open, the most allowed (SANDFLEET_API_SSE_MAX_PER_TOKEN)`
        : this.#total >= this.maxTotal
          ? `the API has ${this.#total} event streams open, the most allowed (SANDFLEET_API_SSE_MAX_TOTAL)`
          : undefined;
    if (refusal) {
      reply.header('retry-after', String(SSE_RETRY_AFTER_SECONDS));
      throw new ApiError('RATE_LIMITED', `${refusal}; close one or try again later`, { retryable: true });
    }
    this.#byKey.set(key, held + 1);
    this.#total += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#total -= 1;
        const left = (this.#byKey.get(key) ?? 1) - 1;
        if (left === 0) this.#byKey.delete(key);
        else this.#byKey.set(key, left);
      },
    };
  }
}
