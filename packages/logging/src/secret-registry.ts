import { secretForms } from './secret-forms.js';

/** Replacement of every redacted value. */
export const REDACTED = '***';

/**
 * Values shorter than this are not redacted by default. 1: a secret of any length is masked
 * (docs/security.md, "Redaction": a short secret garbles text, but never passes).
 */
export const DEFAULT_MIN_SECRET_LENGTH = 1;

export interface SecretRegistryOptions {
  /** Values registered from the start, for the registry's whole life. */
  values?: Iterable<string>;
  /** Values shorter than this are ignored. @defaultValue {@link DEFAULT_MIN_SECRET_LENGTH} */
  minLength?: number;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A shared, mutable set of secret values to blank out of text, e.g. every line a logger writes.
 *
 * Values are reference-counted: two steps that `add` the same value keep it redacted until both
 * have called `remove`, so one step ending never unmasks another's secret. Redaction is plain
 * substring replacement of every form {@link secretForms} lists (literal, escaped, URL-encoded,
 * hex, base64 at each offset, …), the same set step output is redacted with.
 */
export class SecretRegistry {
  readonly #counts = new Map<string, number>();
  readonly #minLength: number;
  #pattern: RegExp | undefined;
  #stale = false;

  constructor(options: SecretRegistryOptions = {}) {
    this.#minLength = options.minLength ?? DEFAULT_MIN_SECRET_LENGTH;
    if (options.values) this.add(options.values);
  }

  /** Number of distinct values being redacted. */
  get size(): number {
    return this.#counts.size;
  }

  /** Whether `value` is being redacted. */
  has(value: string): boolean {
    return this.#counts.has(value);
  }

  /** Starts redacting `values` (once more each, if already registered). */
  add(values: Iterable<string>): void {
    for (const value of values) {
      if (value.length < this.#minLength) continue;
      this.#counts.set(value, (this.#counts.get(value) ?? 0) + 1);
      this.#stale = true;
    }
  }

  /** Undoes one `add` of each of `values`; a value is forgotten when no `add` is left. */
  remove(values: Iterable<string>): void {
    for (const value of values) {
      const count = this.#counts.get(value);
      if (count === undefined) continue;
      if (count > 1) {
        this.#counts.set(value, count - 1);
      } else {
        this.#counts.delete(value);
        this.#stale = true;
      }
    }
  }

  /** `text` with every registered value replaced by `***`. */
  redact(text: string): string {
    if (this.#counts.size === 0) return text;
    return text.replace(this.#regExp(), REDACTED);
  }

  #regExp(): RegExp {
    if (this.#stale || this.#pattern === undefined) {
      const all = new Set([...this.#counts.keys()].flatMap(secretForms));
      // Longest first, so a secret containing another is replaced whole.
      const alternatives = [...all].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.#pattern = new RegExp(alternatives.join('|'), 'g');
      this.#stale = false;
    }
    return this.#pattern;
  }
}
