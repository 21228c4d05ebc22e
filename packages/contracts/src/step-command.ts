import * as z from 'zod';
import { byteLength, matches, NO_NUL } from './schema-helpers.js';

/** Most argv elements a command may have. */
export const MAX_COMMAND_ARGS = 4096;
/** Largest script, in UTF-8 bytes. */
export const MAX_SCRIPT_BYTES = 256 * 1024;
/** Shell names: a program on the image's `PATH`, not a path. */
export const SHELL_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** A script run by a shell inside the container: `[shell, '-c', script]`. */
export const StepScript = z.strictObject({
  script: z
    .string()
    .min(1, { error: 'must not be empty' })
    .regex(NO_NUL, { error: 'must not contain NUL' })
    .refine((s) => byteLength(s) <= MAX_SCRIPT_BYTES, { error: `must be at most ${MAX_SCRIPT_BYTES} bytes` }),
  /** Shell the script runs in. @defaultValue `'sh'` */
  shell: z.string().regex(SHELL_PATTERN, matches(SHELL_PATTERN)).default('sh'),
});
export type StepScript = z.infer<typeof StepScript>;

/** An argv array (at least the program), or a script for a shell. */
export const StepCommand = z.union(
  [
    z
      .array(z.string().regex(NO_NUL, { error: 'must not contain NUL' }))
      .min(1, { error: 'must have at least one element' })
      .max(MAX_COMMAND_ARGS, { error: `must have at most ${MAX_COMMAND_ARGS} elements` }),
    StepScript,
  ],
  {
    error: (issue) =>
      issue.input === undefined ? 'is required' : 'must be an argv array or { "script", "shell"? }',
  },
);
export type StepCommand = z.infer<typeof StepCommand>;

/** Argv the container runs for a command. */
export function commandArgv(command: StepCommand): string[] {
  return Array.isArray(command) ? command : [command.shell, '-c', command.script];
}
