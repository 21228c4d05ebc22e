import { isIPv6 } from 'node:net';

/** @defaultValue of {@link LoginRateLimiterOptions.maxFailures}. */
export const DEFAULT_LOGIN_MAX_FAILURES = 10;
/** @defaultValue of {@link LoginRateLimiterOptions.windowMs}: one minute. */
export const DEFAULT_LOGIN_WINDOW_MS = 60_000;
/** @defaultValue of {@link LoginRateLimiterOptions.maxClients}. */
export const DEFAULT_LOGIN_MAX_CLIENTS = 10_000;

/** Options of {@link LoginRateLimiter}. */
export interface LoginRateLimiterOptions {
  /** Failed sign-ins a client may make in one window. @defaultValue {@link DEFAULT_LOGIN_MAX_FAILURES} */
  maxFailures?: number;
  /** Length of a window, ms. @defaultValue {@link DEFAULT_LOGIN_WINDOW_MS} */
  windowMs?: number;
  /**
   * Clients tracked at most; past it the oldest window is forgotten, so addresses cannot grow the
   * process. @defaultValue {@link DEFAULT_LOGIN_MAX_CLIENTS}
   */
  maxClients?: number;
  /** Clock, ms (tests). @defaultValue `Date.now` */
  now?: () => number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * The client an address counts for: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64, the
 * smallest block one subscriber is given, so rotating through it earns no fresh attempts.
 */
export function loginClientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Fixed-window limit of failed sign-ins per client, in memory (per API process): after
 * `maxFailures` failures in a window the client is refused until the window ends, even with a
 * valid token, so guessing gets no answer either way.
 */
export class LoginRateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #now: () => number;

  constructor(options: LoginRateLimiterOptions = {}) {
    this.#maxFailures = options.maxFailures ?? DEFAULT_LOGIN_MAX_FAILURES;
    this.#windowMs = options.windowMs ?? DEFAULT_LOGIN_WINDOW_MS;
    this.#maxClients = options.maxClients ?? DEFAULT_LOGIN_MAX_CLIENTS;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds until `ip` may try again (for `Retry-After`), or undefined when it may now. */
  retryAfterSeconds(ip: string): number | undefined {
    const window = this.#live(loginClientKey(ip), this.#now());
    if (!window || window.failures < this.#maxFailures) return undefined;
    return Math.max(1, Math.ceil((window.startedAt + this.#windowMs - this.#now()) / 1000));
  }

  /** Counts a failed sign-in of `ip`. */
  fail(ip: string): void {
    const client = loginClientKey(ip);
    const now = this.#now();
    const window = this.#live(client, now);
    if (window) {
      window.failures += 1;
      return;
    }
    if (this.#windows.size >= this.#maxClients) this.#evict(now);
    this.#windows.set(client, { startedAt: now, failures: 1 });
  }

  #live(client: string, now: number): Window | undefined {
    const window = this.#windows.get(client);
    if (window && now - window.startedAt >= this.#windowMs) {
      this.#windows.delete(client);
      return undefined;
    }
    return window;
  }

  // Drops ended windows; when none has ended, the oldest (Map keeps insertion order).
  #evict(now: number): void {
    for (const [client, window] of this.#windows) {
      if (now - window.startedAt >= this.#windowMs) this.#windows.delete(client);
    }
    while (this.#windows.size >= this.#maxClients) {
      const oldest = this.#windows.keys().next().value;
      if (oldest === undefined) break;
      this.#windows.delete(oldest);
    }
  }
}
