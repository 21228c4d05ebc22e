import { createHash, randomBytes } from 'node:crypto';

/** @defaultValue of {@link SessionStoreOptions.idleMs}: a session unused for 2 h ends. */
export const DEFAULT_SESSION_IDLE_MS = 2 * 3600_000;
/** @defaultValue of {@link SessionStoreOptions.absoluteMs}: every session ends 12 h after sign-in. */
export const DEFAULT_SESSION_ABSOLUTE_MS = 12 * 3600_000;
/** @defaultValue of {@link SessionStoreOptions.maxSessions}. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  /** A session not used for this long ends, ms. @defaultValue {@link DEFAULT_SESSION_IDLE_MS} */
  idleMs?: number;
  /** A session ends this long after it began, however used, ms. @defaultValue {@link DEFAULT_SESSION_ABSOLUTE_MS} */
  absoluteMs?: number;
  /**
   * Sessions kept at most; past it the oldest one ends, so a flood of sign-ins cannot grow the
   * process. @defaultValue {@link DEFAULT_MAX_SESSIONS}
   */
  maxSessions?: number;
  /** Clock, ms (tests). @defaultValue `Date.now` */
  now?: () => number;
}

interface Session<Identity> {
  identity: Identity;
  createdAt: number;
  seenAt: number;
}

// Keyed by the id's digest: the map never holds a usable cookie value, and lookups do not
// compare the secret byte by byte.
const key = (id: string) => createHash('sha256').update(id, 'utf8').digest('base64url');

/**
 * Browser sessions of one API process: a random id (32 bytes, base64url; the cookie's value,
 * unrelated to any token) → the identity that signed in, with an idle and an absolute expiry.
 * In memory: a restart signs everyone out, and API replicas behind one address need sticky
 * sessions.
 */
export class SessionStore<Identity> {
  readonly #sessions = new Map<string, Session<Identity>>();
  readonly #idleMs: number;
  readonly #absoluteMs: number;
  readonly #maxSessions: number;
  readonly #now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.#idleMs = options.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.#absoluteMs = options.absoluteMs ?? DEFAULT_SESSION_ABSOLUTE_MS;
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#now = options.now ?? Date.now;
  }

  /** Sessions held (expired ones may linger until the next sweep). */
  get size(): number {
    return this.#sessions.size;
  }

  /** Starts a session for `identity`; returns its id, the cookie's value. */
  create(identity: Identity): string {
    const now = this.#now();
    if (this.#sessions.size >= this.#maxSessions) this.#sweep(now);
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(key(id), { identity, createdAt: now, seenAt: now });
    return id;
  }

  /** The identity of a live session (and marks it used), or undefined; an expired one ends. */
  get(id: string | undefined): Identity | undefined {
    if (!id) return undefined;
    const k = key(id);
    const session = this.#sessions.get(k);
    if (!session) return undefined;
    const now = this.#now();
    if (this.#expired(session, now)) {
      this.#sessions.delete(k);
      return undefined;
    }
    session.seenAt = now;
    return session.identity;
  }

  /** Ends a session (sign-out); unknown ids are ignored. */
  delete(id: string | undefined): void {
    if (id) this.#sessions.delete(key(id));
  }

  #expired(session: Session<Identity>, now: number): boolean {
    return now - session.seenAt >= this.#idleMs || now - session.createdAt >= this.#absoluteMs;
  }

  // Drops expired sessions; when all are live, the oldest (Map keeps insertion order).
  #sweep(now: number): void {
    for (const [k, session] of this.#sessions) if (this.#expired(session, now)) this.#sessions.delete(k);
    while (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
  }
}
