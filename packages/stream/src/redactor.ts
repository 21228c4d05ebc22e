import { secretForms } from '@sandfleet/logging';

/** What every redacted secret is replaced with. */
export const REDACTED = '***';

/**
 * Secrets shorter than this many characters (UTF-16 code units) are not redacted. 1: every
 * secret is, whatever its length (docs/security.md, "Redaction").
 */
export const MIN_SECRET_LENGTH = 1;

/** A half-open range `[start, end)` of characters to redact. */
type Span = [start: number, end: number];

/** Redacted text let through, and where in the raw text (counted from the stream's start) it begins. */
export interface RedactedPiece {
  /** Offset in the raw text of the first character this piece stands for. */
  at: number;
  text: string;
  /** Whether `text` is a marker ({@link REDACTED}) standing for a secret, not raw text. */
  redacted: boolean;
}

/**
 * Replaces secret values in text with {@link REDACTED}. Pure: no I/O, no shared state.
 *
 * Each secret is searched for in every form `secretForms` (@sandfleet/logging) lists: the
 * literal, its JSON/XML/shell/URL escapes, hex, %-encoding, base64 at each of the three offsets
 * in both alphabets, wrapped base64, … Overlapping or adjacent matches, of one secret or several,
 * are merged and replaced by a single marker, so no fragment of a secret survives.
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
      for (const form of secretForms(secret)) patterns.add(form);
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
  /** Offset in the whole raw text of `#tail`'s first character. */
  #base = 0;
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
    return joinPieces(this.pushPieces(text));
  }

  /** Ends the text: returns everything still held back, redacted. The stream can be reused. */
  end(): string {
    return joinPieces(this.endPieces());
  }

  /**
   * {@link push}, as pieces that say which raw characters each stands for (a marker stands at the
   * start of its secret), e.g. to tell which of two interleaved streams a piece belongs to.
   */
  pushPieces(text: string): RedactedPiece[] {
    if (!this.#redactor.enabled) {
      const at = this.#base;
      this.#base += text.length;
      return text.length === 0 ? [] : [{ at, text, redacted: false }];
    }
    return this.#process(this.#tail + text, false);
  }

  /** {@link end}, as pieces (see {@link pushPieces}). */
  endPieces(): RedactedPiece[] {
    if (!this.#redactor.enabled) return [];
    return this.#process(this.#tail, true);
  }

  #process(text: string, final: boolean): RedactedPiece[] {
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
    const base = this.#base;
    const out: RedactedPiece[] = [];
    let position = this.#emitted;
    for (const [start, end] of spans) {
      if (end <= position) continue;
      if (start >= cut) break;
      if (start > position) {
        out.push({ at: base + position, text: text.slice(position, start), redacted: false });
        this.#markerOpen = false;
      }
      if (!this.#markerOpen || start > this.#emitted)
        out.push({ at: base + start, text: REDACTED, redacted: true });
      this.#markerOpen = true;
      position = end;
    }
    if (position < cut) {
      out.push({ at: base + position, text: text.slice(position, cut), redacted: false });
      this.#markerOpen = false;
    }
    const from = Math.min(keepFrom, cut);
    this.#tail = text.slice(from);
    this.#base = base + from;
    this.#emitted = cut - from;
    return out;
  }
}

function joinPieces(pieces: readonly RedactedPiece[]): string {
  return pieces.length === 1 ? (pieces[0] as RedactedPiece).text : pieces.map((piece) => piece.text).join('');
}
