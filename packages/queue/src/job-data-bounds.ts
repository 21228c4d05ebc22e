/** Bounds on a step job's raw (serialized JSON) data, checked before anything parses it. */
export interface JobDataBounds {
  /** Largest serialized job data, bytes (UTF-8). @defaultValue 16777216 (16 MiB) */
  maxBytes: number;
  /** Deepest nesting of objects and arrays, the spec itself counting as 1. @defaultValue 64 */
  maxDepth: number;
}

/**
 * What a worker parses at most. 16 MiB is above what the API accepts (`SANDFLEET_API_BODY_LIMIT_BYTES`,
 * 12 MiB) and 64 levels far above any real spec, while a deeper one would overflow the stack of
 * the recursive code that handles parsed data (schema checks, `JSON.stringify`).
 */
export const DEFAULT_JOB_DATA_BOUNDS: JobDataBounds = { maxBytes: 16 * 1024 * 1024, maxDepth: 64 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Why `raw` is past `bounds` (a sentence), or undefined when it is within them. One pass over the
 * text that allocates nothing: the size is checked first, so an oversized job is not even scanned.
 */
export function jobDataProblem(raw: string, bounds: JobDataBounds): string | undefined {
  // UTF-8 never takes fewer bytes than UTF-16 code units: a string this long is too big already.
  const bytes = raw.length > bounds.maxBytes ? raw.length : Buffer.byteLength(raw, 'utf8');
  if (bytes > bounds.maxBytes) {
    return `job data is ${raw.length > bounds.maxBytes ? 'over ' : ''}${bytes} bytes, past the worker's bound of ${bounds.maxBytes} bytes`;
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > bounds.maxDepth)
        return `job data nests deeper than the worker's bound of ${bounds.maxDepth} levels`;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return undefined;
}
