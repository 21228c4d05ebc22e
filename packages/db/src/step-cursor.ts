import { DbError } from './errors.js';

/** Position after which the next page of a step list starts: `created_at` and `id` of the last item. */
export interface StepCursor {
  /**
   * `created_at` in UTC with microseconds (`2025-01-02T03:04:05.123456Z`), as PostgreSQL keeps it:
   * a millisecond Date would skip rows created later within the same millisecond.
   */
  createdAt: string;
  id: string;
}

const CURSOR_VERSION = 1;
const MAX_CURSOR_LENGTH = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MICROS_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Encodes a cursor as opaque base64url text. */
export function encodeStepCursor(cursor: StepCursor): string {
  const payload = { v: CURSOR_VERSION, t: cursor.createdAt, i: cursor.id };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

function isValidTimestamp(text: string): boolean {
  if (!MICROS_TIMESTAMP.test(text)) return false;
  const millis = Date.parse(text);
  // A round trip rejects dates that parse but do not exist (2025-02-30).
  return Number.isFinite(millis) && new Date(millis).toISOString().slice(0, 23) === text.slice(0, 23);
}

/**
 * Decodes a cursor made by {@link encodeStepCursor}.
 * @throws DbError `INVALID_CURSOR` for anything else.
 */
export function decodeStepCursor(text: string): StepCursor {
  const invalid = () =>
    new DbError('INVALID_CURSOR', 'invalid list cursor', { context: { cursor: text.slice(0, 64) } });
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !BASE64URL.test(text)) throw invalid();
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof payload !== 'object' || payload === null) throw invalid();
  const { v, t, i } = payload as Record<string, unknown>;
  if (v !== CURSOR_VERSION || typeof t !== 'string' || typeof i !== 'string' || i.length === 0)
    throw invalid();
  if (!isValidTimestamp(t)) throw invalid();
  return { createdAt: t, id: i };
}
