import { z } from 'zod';

/** `agentId` pattern: it becomes part of volume names and paths. */
export const AGENT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Step, run, task and chat-session ids: safe as BullMQ job ids, branch names and path segments. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Plain environment variable names. Names starting `SANDFLEET_` are reserved for the runtime. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Secret names: upper-case environment variable names. */
export const SECRET_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;
export const LABEL_KEY_PATTERN = /^[a-z0-9][a-z0-9._/-]{0,62}$/;
const SHELL_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

export const MAX_FILES = 256;
export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_FILES_TOTAL_BYTES = 8 * 1024 * 1024;
export const MAX_INPUT_BYTES = 1024 * 1024;
export const MAX_ENV_VARS = 256;
export const MAX_SECRETS = 64;
export const MAX_LABELS = 32;
const MAX_COMMAND_ARGS = 4096;
const MAX_SCRIPT_BYTES = 256 * 1024;

const pattern = (re: RegExp) => ({ error: `must match ${re.source}` });
const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

const Id = z.string().regex(ID_PATTERN, pattern(ID_PATTERN));

export const StepKind = z.enum(['task', 'pipeline', 'pulse', 'chat']);
export type StepKind = z.infer<typeof StepKind>;

export const StepNetwork = z.enum(['none', 'egress']);
export type StepNetwork = z.infer<typeof StepNetwork>;

/** A script run by a shell inside the container: `[shell, '-c', script]`. */
export const StepScript = z.strictObject({
  script: z
    .string()
    .min(1, { error: 'must not be empty' })
    .refine((s) => byteLength(s) <= MAX_SCRIPT_BYTES, { error: `must be at most ${MAX_SCRIPT_BYTES} bytes` }),
  shell: z.string().regex(SHELL_PATTERN, pattern(SHELL_PATTERN)).default('sh'),
});
export type StepScript = z.infer<typeof StepScript>;

/** An argv array, or a script for a shell. */
export const StepCommand = z.union([
  z
    .array(z.string().refine((a) => !a.includes('\0'), { error: 'must not contain NUL' }))
    .min(1, { error: 'must have at least one element' })
    .max(MAX_COMMAND_ARGS, { error: `must have at most ${MAX_COMMAND_ARGS} elements` }),
  StepScript,
]);
export type StepCommand = z.infer<typeof StepCommand>;

/**
 * Checks a path relative to `/home/agent`; returns what is wrong, or undefined when it is fine.
 * Relative, `/`-separated, no `..`, `.` or empty segment, no NUL, no trailing slash.
 */
export function homePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'must not be empty';
  if (path.length > 1024) return 'must be at most 1024 characters';
  if (path.includes('\0')) return 'must not contain NUL';
  if (path.startsWith('/')) return 'must be relative to /home/agent, not absolute';
  if (path.includes('\\')) return 'must use / as separator';
  const segments = path.split('/');
  if (segments.includes('..')) return 'must not contain .. segments';
  if (segments.some((s) => s === '' || s === '.')) return 'must not contain empty or . segments';
  return undefined;
}

export const StepFile = z.strictObject({
  path: z.string().check((ctx) => {
    const problem = homePathProblem(ctx.value);
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
  }),
  content: z.string(),
  /** `utf8` (default) or `base64` for binary content. */
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
  /** Unix permission bits, e.g. 420 (0o644). */
  mode: z.int().min(0).max(0o777).optional(),
});
export type StepFile = z.infer<typeof StepFile>;

/** Size in bytes of a file's decoded content. */
export function fileContentBytes(file: Pick<StepFile, 'content' | 'encoding'>): number {
  return file.encoding === 'base64' ? Buffer.from(file.content, 'base64').length : byteLength(file.content);
}

export const StepWorkspace = z.strictObject({
  repo: z
    .string()
    .min(1)
    .max(2048)
    .regex(/^(https?|ssh|git|file):\/\/\S+$|^[\w.-]+@[\w.-]+:\S+$/, {
      error: 'must be a git URL (https://, http://, ssh://, git://, file:// or user@host:path)',
    }),
  ref: z.string().min(1).max(256).optional(),
  branch: z.string().min(1).max(256).optional(),
  push: z.boolean().default(false),
});
export type StepWorkspace = z.infer<typeof StepWorkspace>;

/** Per-step limits; each is capped by the worker's maxima, and defaults come from the worker. */
export const StepLimits = z.strictObject({
  /** Wall-clock timeout of the container run, milliseconds. */
  timeoutMs: z.int().min(100).max(7 * 24 * 3600 * 1000).optional(),
  /** Memory limit in MiB (no swap beyond it). */
  memoryMb: z.int().min(8).max(1024 * 1024).optional(),
  /** CPU share, in cores (0.5 = half a core). */
  cpus: z.number().min(0.01).max(1024).optional(),
  /** Maximum processes and threads in the container. */
  pids: z.int().min(8).max(1_000_000).optional(),
  /** Output bytes streamed and stored before the step's output is truncated. */
  outputBytes: z.int().min(1024).max(1024 * 1024 * 1024).optional(),
});
export type StepLimits = z.infer<typeof StepLimits>;

const EnvName = z
  .string()
  .regex(ENV_NAME_PATTERN, pattern(ENV_NAME_PATTERN))
  .refine((name) => !name.toUpperCase().startsWith('SANDFLEET_'), { error: 'SANDFLEET_ names are reserved' });

/** StepSpec v1: the job data on the `steps` queue. Field names are a public contract. */
export const StepSpec = z
  .strictObject({
    id: Id.optional(),
    agentId: z.string().regex(AGENT_ID_PATTERN, pattern(AGENT_ID_PATTERN)),
    kind: StepKind.default('task'),
    runId: Id.optional(),
    taskId: Id.optional(),
    chatSessionId: Id.optional(),
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/, { error: 'must be a Docker image reference' })
      .optional(),
    command: StepCommand,
    input: z.unknown().optional(),
    env: z
      .record(EnvName, z.string().max(64 * 1024))
      .refine((env) => Object.keys(env).length <= MAX_ENV_VARS, { error: `at most ${MAX_ENV_VARS} variables` })
      .default({}),
    secrets: z
      .array(z.string().regex(SECRET_NAME_PATTERN, pattern(SECRET_NAME_PATTERN)))
      .max(MAX_SECRETS, { error: `at most ${MAX_SECRETS} secrets` })
      .refine((names) => new Set(names).size === names.length, { error: 'must not repeat a name' })
      .default([]),
    files: z.array(StepFile).max(MAX_FILES, { error: `at most ${MAX_FILES} files` }).default([]),
    workspace: StepWorkspace.optional(),
    limits: StepLimits.default({}),
    network: StepNetwork.default('none'),
    priority: z.int().min(1).max(2_097_152).optional(),
    delayMs: z.int().min(0).max(30 * 24 * 3600 * 1000).optional(),
    attempts: z.int().min(1).max(20).default(3),
    labels: z
      .record(z.string().regex(LABEL_KEY_PATTERN, pattern(LABEL_KEY_PATTERN)), z.string().max(256))
      .refine((labels) => Object.keys(labels).length <= MAX_LABELS, { error: `at most ${MAX_LABELS} labels` })
      .default({}),
  })
  .superRefine((spec, ctx) => {
    if (spec.kind === 'chat' && !spec.chatSessionId) {
      ctx.addIssue({ code: 'custom', path: ['chatSessionId'], message: 'is required when kind is chat' });
    }
    if (spec.kind === 'pipeline' && !spec.runId) {
      ctx.addIssue({ code: 'custom', path: ['runId'], message: 'is required when kind is pipeline' });
    }
    let total = 0;
    const seen = new Set<string>();
    spec.files.forEach((file, index) => {
      const size = fileContentBytes(file);
      total += size;
      if (size > MAX_FILE_BYTES) {
        ctx.addIssue({ code: 'custom', path: ['files', index, 'content'], message: `must be at most ${MAX_FILE_BYTES} bytes` });
      }
      if (seen.has(file.path)) {
        ctx.addIssue({ code: 'custom', path: ['files', index, 'path'], message: 'repeats an earlier file path' });
      }
      seen.add(file.path);
    });
    if (total > MAX_FILES_TOTAL_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['files'], message: `must total at most ${MAX_FILES_TOTAL_BYTES} bytes` });
    }
    if (spec.input !== undefined) {
      const text = typeof spec.input === 'string' ? spec.input : JSON.stringify(spec.input);
      if (text === undefined) {
        ctx.addIssue({ code: 'custom', path: ['input'], message: 'must be text or JSON' });
      } else if (byteLength(text) > MAX_INPUT_BYTES) {
        ctx.addIssue({ code: 'custom', path: ['input'], message: `must be at most ${MAX_INPUT_BYTES} bytes` });
      }
    }
  });

/** A validated StepSpec, defaults applied. */
export type StepSpec = z.output<typeof StepSpec>;
/** What a producer may write: optional fields may be left out. */
export type StepSpecInput = z.input<typeof StepSpec>;

/** Argv the container runs for a command. */
export function commandArgv(command: StepCommand): string[] {
  return Array.isArray(command) ? command : [command.shell, '-c', command.script];
}
