import { DEFAULT_SESSION_ABSOLUTE_MS } from './session-store.js';

/**
 * Name of the browser session cookie: a random session id (never the token), HttpOnly,
 * SameSite=Strict, Path=/, Secure when the request came over https.
 */
export const SESSION_COOKIE = 'sandfleet_session';
/** Lifetime of the session cookie, seconds: the session's absolute expiry. */
export const SESSION_MAX_AGE_SECONDS = DEFAULT_SESSION_ABSOLUTE_MS / 1000;
