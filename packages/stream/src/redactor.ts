/** What every redacted secret is replaced with. */
export const REDACTED = '***';

/**
 * Secrets shorter than this many characters (UTF-16 code units) are not redacted: replacing
 * every `a1` or `yes` in the output would destroy it while protecting next to nothing.
 */
export const MIN_SECRET_LENGTH = 4;

/** A half-open range `[start, end)` of characters to redact. */
type Span = [start: number, end: number];

/**
 * Replaces secret values in text with {@link REDACTED}. Pure: no I/O, no shared state.
 *
 * Each secret of at least {@link MIN_SECRET_LENGTH} characters is searched for as is, and as the
 * base64 of its UTF-8 bytes in both the standard and the url-safe alphabet (without `=` padding,
 * so padded and unpadded forms are both caught). Overlapping or adjacent matches, of one secret
 * or several, are merged and replaced by a single marker, so no fragment of a secret survives.
 *
 * For text arriving in pieces use {@link Redactor.stream}, which also catches a secret split
 * across pieces.
 */
export class Redactor {
  /** The strings searched for: secret values and their base64 forms, longest first. */
  readonly patterns: readonly string[];
  /** Length of the longest pattern, 0 when there is nothing to redact. */
  readonly maxPatternLength: number;
  readonly #firstChars: ReadonlySet<number>;

  constructor(secrets: Iterable<string>) {
    const patterns = new Set<string>();
    for (const secret of secrets) {
      if (secret.length < MIN_SECRET_LENGTH) continue;
      const bytes = Buffer.from(secret, 'utf8');
      for (const form of [secret, bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url')]) {
        if (form.length >= MIN_SECRET_LENGTH) patterns.add(form);
      }
    }
    this.patterns = [...patterns].sort((a, b) => b.length - a.length);
    this.maxPatternLength = this.patterns[0]?.length ?? 0;
    this.#firstChars = new Set(this.patterns.map((pattern) => pattern.charCodeAt(0)));
  }

  /** Whether there is any secret to redact (when not, every method returns its input). */
  get enabled(): boolean {
    return this.patterns.length > 0;
  }

  /** Redacts one complete text. */
  redact(text: string): string {
    if (!this.enabled || text.length === 0) return text;
    const stream = this.stream();
    return stream.push(text) + stream.end();
  }

  /**
   * Redacts every string inside a JSON-like value (objects, arrays, strings), returning a copy;
   * other values are returned as they are. Object keys are left alone.
   */
  redactValue<T>(value: T): T {
    if (!this.enabled) return value;
    return this.#redactValue(value) as T;
  }

  /** Starts redacting a text that arrives in pieces; see {@link RedactionStream}. */
  stream(): RedactionStream {
    return new RedactionStream(this);
  }

  /**
   * Every occurrence of every pattern in `text`, as sorted spans with overlapping and adjacent
   * ones merged. @internal
   */
  findSpans(text: string): Span[] {
    const found: Span[] = [];
    for (const pattern of this.patterns) {
      for (let at = text.indexOf(pattern); at !== -1; at = text.indexOf(pattern, at + 1)) {
        found.push([at, at + pattern.length]);
      }
    }
    if (found.length < 2) return found;
    found.sort((a, b) => a[0] - b[0]);
    const merged: Span[] = [];
    for (const span of found) {
      const last = merged.at(-1);
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else merged.push(span);
    }
    return merged;
  }

  /**
   * Length of the longest suffix of `text` that is a proper prefix of a pattern, i.e. the
   * beginning of a secret whose rest may still arrive. At most `maxPatternLength - 1`. @internal
   */
  pendingSuffixLength(text: string): number {
    for (let length = Math.min(this.maxPatternLength - 1, text.length); length > 0; length--) {
      const start = text.length - length;
      if (!this.#firstChars.has(text.charCodeAt(start))) continue;
      for (const pattern of this.patterns) {
        if (pattern.length > length && text.startsWith(pattern.slice(0, length), start)) return length;
      }
    }
    return 0;
  }

  #redactValue(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((item) => this.#redactValue(item));
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.#redactValue(item)]));
    }
    return value;
  }
}

/**
 * Redacts a text that arrives in pieces, e.g. a process's stdout. `push` returns the redacted
 * text that is safe to emit so far; it holds back only a tail that could be the beginning of a
 * secret (at most `maxPatternLength - 1` characters, usually none) until more text or `end()`
 * arrives. Concatenating every `push` result and the `end` result equals `redact(whole text)`,
 * however the text was cut; no secret or fragment of one is ever emitted.
 */
export class RedactionStream {
  readonly #redactor: Redactor;
  /** Raw text kept for matching: the held-back tail, possibly preceded by redacted context. */
  #tail = '';
  /** How many characters at the start of `#tail` were already emitted (as part of a marker). */
  #emitted = 0;
  /** Whether the output so far ends with a marker, which a secret starting right there extends. */
  #markerOpen = false;

  constructor(redactor: Redactor) {
    this.#redactor = redactor;
  }

  /** Characters currently held back. */
  get heldBack(): number {
    return this.#tail.length - this.#emitted;
  }

  /** Adds `text`; returns the redacted text now safe to emit (possibly empty). */
  push(text: string): string {
    if (!this.#redactor.enabled) return text;
    return this.#process(this.#tail + text, false);
  }

  /** Ends the text: returns everything still held back, redacted. The stream can be reused. */
  end(): string {
    if (!this.#redactor.enabled) return '';
    return this.#process(this.#tail, true);
  }

  #process(text: string, final: boolean): string {
    const spans = this.#redactor.findSpans(text);
    // Any secret still to complete starts at or after `keepFrom`, so text before it is final.
    const keepFrom = final ? text.length : text.length - this.#redactor.pendingSuffixLength(text);
    let cut = Math.max(this.#emitted, keepFrom);
    // Never cut inside a secret: emit it whole as a marker. A later secret overlapping or
    // touching it then starts in the emitted context and extends that marker (`#markerOpen`).
    for (const [start, end] of spans) {
      if (start < cut && cut < end) cut = end;
      if (start >= cut) break;
    }
    let out = '';
    let position = this.#emitted;
    for (const [start, end] of spans) {
      if (end <= position) continue;
      if (start >= cut) break;
      if (start > position) {
        out += text.slice(position, start);
        this.#markerOpen = false;
      }
      if (!this.#markerOpen || start > this.#emitted) out += REDACTED;
      this.#markerOpen = true;
      position = end;
    }
    if (position < cut) {
      out += text.slice(position, cut);
      this.#markerOpen = false;
    }
    const from = Math.min(keepFrom, cut);
    this.#tail = text.slice(from);
    this.#emitted = cut - from;
    return out;
  }
}
