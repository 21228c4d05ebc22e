import { z } from 'zod';

// Builders for one environment variable each. Every variable is optional: unset or empty (a bare
// `NAME=` line in .env) means "use the default". Messages never include the value, which may be a
// credential (a database URL with a password, a token).

type Default<T> = T | (() => T);

const resolve = <T>(value: Default<T>): T => (typeof value === 'function' ? (value as () => T)() : value);

const present = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

/**
 * A variable turned into `T` by `convert`, which returns undefined when the text is not
 * acceptable; `message` says why (a function of the text when the reasons differ).
 */
function variable<T>(
  defaultValue: Default<T>,
  message: string | ((text: string) => string),
  convert: (text: string) => T | undefined,
) {
  return z
    .string()
    .optional()
    .transform((value, ctx): T => {
      const text = present(value);
      if (text === undefined) return resolve(defaultValue);
      const converted = convert(text);
      if (converted !== undefined) return converted;
      // `continue` lets whole-config checks run too, so one run lists every problem.
      const why = typeof message === 'string' ? message : message(text);
      ctx.issues.push({ code: 'custom', message: why, input: value, continue: true });
      return z.NEVER;
    });
}

/** Bounds of a numeric variable; `max` is optional. */
export interface RangeOptions {
  min: number;
  max?: number;
}

const rangeText = (kind: string, { min, max }: RangeOptions) =>
  max === undefined ? `must be ${kind} ≥ ${min}` : `must be ${kind} between ${min} and ${max}`;

const inRange = (n: number, { min, max }: RangeOptions) => n >= min && (max === undefined || n <= max);

/** A decimal integer, e.g. `SANDFLEET_WORKER_CONCURRENCY=8`: "must be an integer ≥ 1" when it is not. */
export function intVar(defaultValue: Default<number>, range: RangeOptions) {
  return variable(defaultValue, rangeText('an integer', range), (text) => {
    const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    return Number.isSafeInteger(n) && inRange(n, range) ? n : undefined;
  });
}

/** A decimal number, e.g. `SANDFLEET_DEFAULT_CPUS=0.5`. */
export function numberVar(defaultValue: Default<number>, range: RangeOptions) {
  return variable(defaultValue, rangeText('a number', range), (text) => {
    const n = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
    return Number.isFinite(n) && inRange(n, range) ? n : undefined;
  });
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** A yes/no switch: `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`, any case). */
export function boolVar(defaultValue: Default<boolean>) {
  return variable(defaultValue, 'must be true or false', (text) => {
    const word = text.toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    return FALSE_WORDS.includes(word) ? false : undefined;
  });
}

/** A string, checked against `pattern` when given. */
export function stringVar(defaultValue: Default<string>, pattern?: RegExp, message?: string) {
  return variable(defaultValue, message ?? `must match ${pattern?.source}`, (text) =>
    pattern === undefined || pattern.test(text) ? text : undefined,
  );
}

/** A string `problem` accepts (it returns undefined) or says what is wrong with. */
export function checkedVar(defaultValue: Default<string>, problem: (text: string) => string | undefined) {
  return variable(
    defaultValue,
    (text) => problem(text) ?? 'is not acceptable',
    (text) => (problem(text) === undefined ? text : undefined),
  );
}

/** A string that may be left unset (the field is then `undefined`). */
export function optionalVar(pattern?: RegExp, message?: string) {
  return variable<string | undefined>(undefined, message ?? `must match ${pattern?.source}`, (text) =>
    pattern === undefined || pattern.test(text) ? text : undefined,
  );
}

/** One of `values`, e.g. a log level. */
export function enumVar<const T extends string>(values: readonly T[], defaultValue: T) {
  return variable<T>(defaultValue, `must be one of ${values.join(', ')}`, (text) =>
    values.find((v) => v === text),
  );
}

function urlWith(text: string, protocols: readonly string[]): string | undefined {
  try {
    return protocols.includes(new URL(text).protocol.slice(0, -1)) ? text : undefined;
  } catch {
    return undefined;
  }
}

const urlMessage = (protocols: readonly string[]) =>
  `must be a ${protocols.map((p) => `${p}://`).join(' or ')} URL`;

/** A URL whose scheme is one of `protocols` (without `:`), e.g. `['redis', 'rediss']`. */
export function urlVar(defaultValue: Default<string>, protocols: readonly string[]) {
  return variable(defaultValue, urlMessage(protocols), (text) => urlWith(text, protocols));
}

/** A URL that may be left unset. */
export function optionalUrlVar(protocols: readonly string[]) {
  return variable<string | undefined>(undefined, urlMessage(protocols), (text) => urlWith(text, protocols));
}

/** A comma-separated list (`a, b,c`); blank items are dropped and the list may not end up empty. */
export function listVar(defaultValue: Default<string[]>, item: RegExp, message: string) {
  return variable(defaultValue, message, (text) => {
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    return items.length > 0 && items.every((s) => item.test(s)) ? items : undefined;
  });
}
