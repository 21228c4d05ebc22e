import { REDACTED } from './secret-registry.js';

// `scheme://userinfo@`: the user (a token, as in `https://token@host`) and password of any URL.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s@/"'?#]+@/gi;

/** `text` with the user info of every URL in it (`https://u:pw@host` → `https://***@host`) masked. */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, `$1${REDACTED}@`);
}

/**
 * A copy of a JSON-like value with {@link maskUrlCredentials} applied to every string in it,
 * object keys left alone; e.g. job data that is stored although it failed validation.
 */
export function maskUrlCredentialsIn<T>(value: T): T {
  return maskValue(value) as T;
}

function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskValue(item)]));
  }
  return value;
}
