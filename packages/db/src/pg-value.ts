declare const jsonbBrand: unique symbol;

/**
 * JSON text bound for a `jsonb` column. Only {@link toJsonb} makes one, so every jsonb write goes
 * through its sanitising (node-postgres would turn a JS array into a PostgreSQL array literal).
 */
export type JsonbText = string & { readonly [jsonbBrand]: true };

const REPLACEMENT = '\uFFFD';
// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Makes text storable in a `text` column: PostgreSQL rejects NUL, which container output may
 * contain, and a rejected write would leave a step without its terminal state.
 */
export function toPgText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', REPLACEMENT) : text;
}

function toJsonString(text: string): string {
  return toPgText(text).replace(LONE_SURROGATE, REPLACEMENT);
}

// jsonb also rejects `\u0000` and unpaired surrogate escapes, in values and in keys.
function sanitize(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return toJsonString(value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.some((key) => toJsonString(key) !== key)) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [toJsonString(key), item]));
    }
  }
  return value;
}

/**
 * Serialises `value` for a `jsonb` column, replacing what PostgreSQL cannot store (NUL, unpaired
 * surrogates) with U+FFFD. Returns `null` when `value` has no JSON form (`undefined`, a function).
 */
export function toJsonb(value: unknown): JsonbText | null {
  const text = JSON.stringify(value, sanitize) as string | undefined;
  return text === undefined ? null : (text as JsonbText);
}
