import { createHash, timingSafeEqual } from 'node:crypto';
import { type ApiToken, envTokenName } from '@sandfleet/config';
import type { Principal } from '@sandfleet/steps';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** A token as the API knows it: its SHA-256 and who it stands for. */
interface KnownToken {
  digest: Buffer;
  principal: Principal;
}

function known(token: string | ApiToken, index: number): KnownToken {
  if (typeof token === 'string')
    return { digest: digest(token), principal: { name: envTokenName(index), scope: {} } };
  const { sha256, ...principal } = token;
  return { digest: Buffer.from(sha256, 'hex'), principal };
}

/**
 * Checks bearer tokens against the configured ones in constant time: it keeps only SHA-256
 * digests (equal length whatever the token) and compares against every one with
 * `crypto.timingSafeEqual`, so neither content nor position leaks through timing. A token given
 * as text is unrestricted and named `env-<position>` (as `SANDFLEET_API_TOKENS`' are); one given
 * as an {@link ApiToken} (the tokens file) keeps its name, scope and quotas.
 */
export class TokenVerifier {
  readonly #tokens: readonly KnownToken[];

  constructor(tokens: readonly (string | ApiToken)[]) {
    this.#tokens = tokens.map(known);
  }

  /** Whether no token is configured (nothing can verify). */
  get empty(): boolean {
    return this.#tokens.length === 0;
  }

  /** Who `token` stands for, or undefined when it is none of the configured tokens. */
  verify(token: string | undefined): Principal | undefined {
    if (token === undefined || token === '') return undefined;
    const candidate = digest(token);
    let match: Principal | undefined;
    for (const entry of this.#tokens) {
      if (timingSafeEqual(candidate, entry.digest)) match ??= entry.principal;
    }
    return match;
  }
}
