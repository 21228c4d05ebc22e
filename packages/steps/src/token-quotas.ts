import { fileContentBytes, type StepSpec } from '@sandfleet/contracts';
import { StepsError } from './errors.js';
import type { Principal } from './step-scope.js';

const MINUTE_MS = 60_000;

/**
 * The bytes of a job that count against a token's `maxJobBytes`: file contents (decoded), the
 * `input` as JSON and every `env` name and value.
 */
export function jobBytes(spec: StepSpec): number {
  const files = spec.files.reduce((sum, file) => sum + fileContentBytes(file), 0);
  const input = spec.input === undefined ? 0 : Buffer.byteLength(JSON.stringify(spec.input), 'utf8');
  const env = Object.entries(spec.env).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8'),
    0,
  );
  return files + input + env;
}

function rateLimited(message: string, principal: Principal, retryAfterSeconds: number): StepsError {
  return new StepsError('RATE_LIMITED', `${message} for token ${principal.name}; try again later`, {
    context: { tokenName: principal.name, retryAfterSeconds },
  });
}

/** Options of {@link TokenQuotas}. */
export interface TokenQuotasOptions {
  /** @defaultValue `Date.now` */
  now?: () => number;
}

/**
 * Enforces a token's quotas at enqueue: bytes of the job, steps created per minute (counted in
 * this process: with N API processes a token may create up to N times its rate) and steps not
 * yet ended (counted by the caller in PostgreSQL). Past one: `RATE_LIMITED` with
 * `context.retryAfterSeconds`.
 */
export class TokenQuotas {
  readonly #now: () => number;
  // Token name → its current one-minute window.
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(options: TokenQuotasOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** @throws StepsError `RATE_LIMITED` when the job is over the token's `maxJobBytes`. */
  assertJobSize(principal: Principal, spec: StepSpec): void {
    const max = principal.quotas?.maxJobBytes;
    if (max === undefined) return;
    const bytes = jobBytes(spec);
    if (bytes > max)
      throw rateLimited(`the job has ${bytes} bytes of files, input and env, over ${max}`, principal, 60);
  }

  /** @throws StepsError `RATE_LIMITED` when `queued` (its unfinished steps) reaches `maxQueued`. */
  assertQueued(principal: Principal, queued: number): void {
    const max = principal.quotas?.maxQueued;
    if (max !== undefined && queued >= max)
      throw rateLimited(`${queued} steps not yet ended, the most allowed (${max})`, principal, 10);
  }

  /** Counts one created step. @throws StepsError `RATE_LIMITED` past `createsPerMinute`. */
  takeCreate(principal: Principal): void {
    const max = principal.quotas?.createsPerMinute;
    if (max === undefined) return;
    const now = this.#now();
    let window = this.#windows.get(principal.name);
    if (!window || now - window.start >= MINUTE_MS) {
      window = { start: now, count: 0 };
      this.#windows.set(principal.name, window);
    }
    if (window.count >= max) {
      const retryAfter = Math.max(1, Math.ceil((window.start + MINUTE_MS - now) / 1000));
      throw rateLimited(`${max} steps created this minute, the most allowed`, principal, retryAfter);
    }
    window.count += 1;
  }
}
