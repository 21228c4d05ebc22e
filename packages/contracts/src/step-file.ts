import * as z from 'zod';
import { byteLength, integerIn } from './schema-helpers.js';

/** Most files a step may carry. */
export const MAX_FILES = 256;
/** Largest file, in decoded bytes. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Largest total of all files of a step, in decoded bytes. */
export const MAX_FILES_TOTAL_BYTES = 8 * 1024 * 1024;
/** Longest file path, in characters. */
export const MAX_HOME_PATH_LENGTH = 1024;

// A segment other than `.` and `..`: not starting with a dot, a dot then a non-dot, or two dots then more.
const SEGMENT_CHAR = String.raw`[^/\\\x00]`;
const HOME_PATH_SEGMENT = String.raw`(?:[^/\\\x00.]${SEGMENT_CHAR}*|\.[^/\\\x00.]${SEGMENT_CHAR}*|\.\.${SEGMENT_CHAR}+)`;

/**
 * The rules of {@link homePathProblem} as one ECMA-262 regex, for the JSON Schema: `/`-separated
 * segments, none empty, `.` or `..`, no backslash or NUL.
 */
export const HOME_PATH_PATTERN = new RegExp(`^${HOME_PATH_SEGMENT}(?:/${HOME_PATH_SEGMENT})*$`);

/** Standard base64 (RFC 4648 §4) with padding and without line breaks. */
export const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Checks a path relative to `/home/agent`; returns what is wrong, or undefined when it is fine.
 * Relative, `/`-separated, no `..`, `.` or empty segment, no NUL, no trailing slash.
 */
export function homePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'must not be empty';
  if (path.length > MAX_HOME_PATH_LENGTH) return `must be at most ${MAX_HOME_PATH_LENGTH} characters`;
  if (path.includes('\0')) return 'must not contain NUL';
  if (path.startsWith('/')) return 'must be relative to /home/agent, not absolute';
  if (path.includes('\\')) return 'must use / as separator';
  const segments = path.split('/');
  if (segments.includes('..')) return 'must not contain .. segments';
  if (segments.some((s) => s === '' || s === '.')) return 'must not contain empty or . segments';
  return undefined;
}

/** Size in bytes of a file's decoded content. */
export function fileContentBytes(file: { content: string; encoding: 'utf8' | 'base64' }): number {
  return file.encoding === 'base64' ? Buffer.from(file.content, 'base64').length : byteLength(file.content);
}

/** A file written under `/home/agent` before the step starts (persona, memories, inputs). */
export const StepFile = z
  .strictObject({
    /** Path relative to `/home/agent`; may not escape it. */
    path: z
      .string()
      .check((ctx) => {
        const problem = homePathProblem(ctx.value);
        if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value, continue: true });
      })
      .meta({ minLength: 1, maxLength: MAX_HOME_PATH_LENGTH, pattern: HOME_PATH_PATTERN.source }),
    /** The content, encoded as `encoding` says; at most {@link MAX_FILE_BYTES} once decoded. */
    content: z.string(),
    /** `utf8` (default) or `base64` for binary content. @defaultValue `'utf8'` */
    encoding: z.enum(['utf8', 'base64'], { error: 'must be one of utf8, base64' }).default('utf8'),
    /** Unix permission bits, e.g. 420 (0o644). */
    mode: integerIn(0, 0o777).optional(),
  })
  .check((ctx) => {
    const file = ctx.value;
    if (file.encoding === 'base64' && !BASE64_PATTERN.test(file.content)) {
      ctx.issues.push({
        code: 'custom',
        path: ['content'],
        message: 'must be base64',
        input: file.content,
        continue: true,
      });
      return;
    }
    if (fileContentBytes(file) > MAX_FILE_BYTES) {
      ctx.issues.push({
        code: 'custom',
        path: ['content'],
        message: `must be at most ${MAX_FILE_BYTES} bytes`,
        input: file.content,
        continue: true,
      });
    }
  });
export type StepFile = z.infer<typeof StepFile>;
