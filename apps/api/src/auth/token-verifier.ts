import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * Checks bearer tokens against the configured ones in constant time: it keeps only SHA-256
 * digests (equal length whatever the token) and compares against every one with
 * `crypto.timingSafeEqual`, so neither content nor position leaks through timing.
 */
export class TokenVerifier {
  readonly #digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.#digests = tokens.map(digest);
  }

  /** Whether no token is configured (nothing can verify). */
  get empty(): boolean {
    return this.#digests.length === 0;
  }

  /** Whether `token` is one of the configured tokens. */
  verify(token: string | undefined): boolean {
    if (token === undefined || token === '') return false;
    const candidate = digest(token);
    let match = false;
    for (const known of this.#digests) match = timingSafeEqual(candidate, known) || match;
    return match;
  }
}
