import * as z from 'zod';
import { byteLength, forbidding, integerIn, matches, numberIn, text } from './schema-helpers.js';
import { inSharedVault, StepSharedVault } from './shared-vault.js';
import { StepCommand } from './step-command.js';
import { fileContentBytes, MAX_FILES, MAX_FILES_TOTAL_BYTES, StepFile } from './step-file.js';

/** `agentId` pattern: it becomes part of volume names and paths. */
export const AGENT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Step, run, task and chat-session ids: safe as BullMQ job ids, branch names and path segments. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Plain environment variable names. Names starting `SANDFLEET_` are reserved for the runtime. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Secret names: upper-case environment variable names. */
export const SECRET_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;
/** Label keys, Docker-label style. */
export const LABEL_KEY_PATTERN = /^[a-z0-9][a-z0-9._/-]{0,62}$/;
/** Docker image reference: lower-case repository, optional tag (any case), optional digest. */
export const IMAGE_PATTERN =
  /^[a-z0-9][a-z0-9._/:-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$/;

/** Largest `input`, in UTF-8 bytes of its text or JSON. */
export const MAX_INPUT_BYTES = 1024 * 1024;
/** Most plain environment variables a step may set. */
export const MAX_ENV_VARS = 256;
/** Most secrets a step may name. */
export const MAX_SECRETS = 64;
/** Most labels a step may carry. */
export const MAX_LABELS = 32;

// git refuses ref components containing `..` or ending in `.` or `.lock`; ids become branch names.
const NOT_GIT_UNSAFE = { re: /\.\.|\.$|\.lock$/, error: 'must not contain .. or end with . or .lock' };
// BullMQ throws "Custom Id cannot be integers" for a job id such as `42`.
const NOT_ALL_DIGITS = { re: /^[0-9]+$/, error: 'must not be all digits (BullMQ rejects integer job ids)' };
const RESERVED = 'SANDFLEET_ names are reserved';
// A ref or branch handed to git must not be mistaken for an option.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters being rejected.
const GIT_ARG = /^[^-\s\x00][^\s\x00]*$/;

const Id = forbidding(z.string().regex(ID_PATTERN, matches(ID_PATTERN)), [NOT_GIT_UNSAFE]);
const StepId = forbidding(z.string().regex(ID_PATTERN, matches(ID_PATTERN)), [
  NOT_GIT_UNSAFE,
  NOT_ALL_DIGITS,
]);

/** An agent's id, as `StepSpec.agentId` and every API path naming an agent take it. */
export const AgentId = z.string().regex(AGENT_ID_PATTERN, matches(AGENT_ID_PATTERN));
export type AgentId = z.infer<typeof AgentId>;

/** A Docker image reference, as `StepSpec.image` takes it (the worker never pulls it). */
export const StepImage = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(512, { error: 'must be at most 512 characters' })
  .regex(IMAGE_PATTERN, { error: 'must be a Docker image reference' });
export type StepImage = z.infer<typeof StepImage>;

/** What the step is; selects the workspace layout. */
export const StepKind = z.enum(['task', 'pipeline', 'pulse', 'chat'], {
  error: 'must be one of task, pipeline, pulse, chat',
});
export type StepKind = z.infer<typeof StepKind>;

/** `none`: no network; `egress`: the egress-only agents network. */
export const StepNetwork = z.enum(['none', 'egress'], { error: 'must be one of none, egress' });
export type StepNetwork = z.infer<typeof StepNetwork>;

const GitArg = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'must be at most 256 characters' })
  .regex(GIT_ARG, { error: 'must not start with - or contain whitespace' });

/**
 * Whether a repository URL carries a credential: any user info in an `http(s)://`, `git://` or
 * `file://` URL (`https://u:pw@host`, `https://token@host`), a password in an `ssh://` one. The
 * user of `ssh://git@host/x` or `git@host:x` names an account, not a secret, and is allowed.
 */
export function hasUrlCredentials(repo: string): boolean {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)@/i.exec(repo);
  if (!match) return false;
  return (match[1] as string).toLowerCase() !== 'ssh' || (match[2] as string).includes(':');
}

/** A git repository the runtime clones for the step. */
export const StepWorkspace = z.strictObject({
  repo: z
    .string()
    .min(1)
    .max(2048)
    .regex(/^(https?|ssh|git|file):\/\/\S+$|^[\w.-]+@[\w.-]+:\S+$/, {
      error: 'must be a git URL (https://, http://, ssh://, git://, file:// or user@host:path)',
    })
    // A credential in the URL would be stored with the spec (row, job, logs): it goes in a secret.
    .refine((repo) => !hasUrlCredentials(repo), {
      error: 'must not contain credentials; pass them as a secret (see docs/security.md)',
    }),
  ref: GitArg.optional(),
  branch: GitArg.optional(),
  /** Whether the runtime pushes the branch when the step succeeds. @defaultValue `false` */
  push: z.boolean().default(false),
});
export type StepWorkspace = z.infer<typeof StepWorkspace>;

/** Range each step limit must fall in, whatever a worker allows; workers cap them lower. */
export const LIMIT_BOUNDS = {
  timeoutMs: { min: 100, max: 7 * 24 * 3600 * 1000 },
  memoryMb: { min: 8, max: 1024 * 1024 },
  cpus: { min: 0.01, max: 1024 },
  pids: { min: 8, max: 1_000_000 },
  outputBytes: { min: 1024, max: 1024 * 1024 * 1024 },
  diskMb: { min: 16, max: 1024 * 1024 },
} as const;

const limit = (name: Exclude<keyof typeof LIMIT_BOUNDS, 'cpus'>) =>
  integerIn(LIMIT_BOUNDS[name].min, LIMIT_BOUNDS[name].max).optional();

/** Per-step limits; each is capped by the worker's maxima, and defaults come from the worker. */
export const StepLimits = z.strictObject({
  /** Wall-clock timeout of the container run, milliseconds. */
  timeoutMs: limit('timeoutMs'),
  /** Memory limit in MiB (no swap beyond it). */
  memoryMb: limit('memoryMb'),
  /** CPU share, in cores (0.5 = half a core). */
  cpus: numberIn(LIMIT_BOUNDS.cpus.min, LIMIT_BOUNDS.cpus.max).optional(),
  /** Maximum processes and threads in the container. */
  pids: limit('pids'),
  /** Output bytes streamed and stored before the step's output is truncated. */
  outputBytes: limit('outputBytes'),
  /**
   * Disk a step may fill, MiB: the size of its home's filesystem and of each of its tmpfs
   * scratch directories (`/tmp`, `/var/tmp`, `/run`); the rest of the root filesystem is read-only.
   */
  diskMb: limit('diskMb'),
});
export type StepLimits = z.infer<typeof StepLimits>;

// Spelled out rather than with the `i` flag, which a JSON Schema pattern cannot carry.
const EnvName = forbidding(z.string().regex(ENV_NAME_PATTERN, matches(ENV_NAME_PATTERN)), [
  { re: /^[Ss][Aa][Nn][Dd][Ff][Ll][Ee][Ee][Tt]_/, error: RESERVED },
]);

const SecretName = forbidding(z.string().regex(SECRET_NAME_PATTERN, matches(SECRET_NAME_PATTERN)), [
  { re: /^SANDFLEET_/, error: RESERVED },
]);

const Secrets = z
  .array(SecretName)
  .max(MAX_SECRETS, { error: `must have at most ${MAX_SECRETS} names` })
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.forEach((name, index) => {
      if (seen.has(name)) {
        ctx.issues.push({
          code: 'custom',
          path: [index],
          message: 'repeats an earlier name',
          input: name,
          continue: true,
        });
      }
      seen.add(name);
    });
  })
  .meta({ uniqueItems: true });

/** Size of `input` as stored: the text itself, or its JSON. Undefined when it is not JSON. */
function inputBytes(input: unknown): number | undefined {
  try {
    const json = typeof input === 'string' ? input : JSON.stringify(input);
    return json === undefined ? undefined : byteLength(json);
  } catch {
    // BigInt and circular structures; job data arriving as JSON never has them.
    return undefined;
  }
}

/** StepSpec v1: the job data on the `steps` queue. Field names are a public contract. */
export const StepSpec = z
  .strictObject({
    id: StepId.optional(),
    agentId: AgentId,
    kind: StepKind.default('task'),
    runId: Id.optional(),
    taskId: Id.optional(),
    chatSessionId: Id.optional(),
    image: StepImage.optional(),
    command: StepCommand,
    input: z.unknown().optional(),
    env: z
      .record(EnvName, text(64 * 1024))
      .refine((env) => Object.keys(env).length <= MAX_ENV_VARS, {
        error: `must have at most ${MAX_ENV_VARS} variables`,
      })
      .meta({ maxProperties: MAX_ENV_VARS })
      .default({}),
    secrets: Secrets.default([]),
    files: z
      .array(StepFile)
      .max(MAX_FILES, { error: `must have at most ${MAX_FILES} files` })
      .default([]),
    workspace: StepWorkspace.optional(),
    limits: StepLimits.default({}),
    network: StepNetwork.default('none'),
    sharedVault: StepSharedVault.optional(),
    priority: integerIn(1, 2_097_152).optional(),
    delayMs: integerIn(0, 30 * 24 * 3600 * 1000).optional(),
    attempts: integerIn(1, 20).default(3),
    labels: z
      .record(z.string().regex(LABEL_KEY_PATTERN, matches(LABEL_KEY_PATTERN)), text(256))
      .refine((labels) => Object.keys(labels).length <= MAX_LABELS, {
        error: `must have at most ${MAX_LABELS} labels`,
      })
      .meta({ maxProperties: MAX_LABELS })
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
      total += fileContentBytes(file);
      if (seen.has(file.path)) {
        ctx.addIssue({
          code: 'custom',
          path: ['files', index, 'path'],
          message: 'repeats an earlier file path',
        });
      }
      seen.add(file.path);
      if (inSharedVault(file.path) && spec.sharedVault?.access !== 'write') {
        ctx.addIssue({
          code: 'custom',
          path: ['files', index, 'path'],
          message: "is in the shared vault, which needs sharedVault: { access: 'write' }",
        });
      }
    });
    if (total > MAX_FILES_TOTAL_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['files'],
        message: `must total at most ${MAX_FILES_TOTAL_BYTES} bytes`,
      });
    }
    spec.secrets.forEach((name, index) => {
      if (Object.hasOwn(spec.env, name)) {
        ctx.addIssue({ code: 'custom', path: ['secrets', index], message: 'is also set in env' });
      }
    });
    if (spec.input !== undefined) {
      const size = inputBytes(spec.input);
      if (size === undefined) {
        ctx.addIssue({ code: 'custom', path: ['input'], message: 'must be text or JSON' });
      } else if (size > MAX_INPUT_BYTES) {
        ctx.addIssue({
          code: 'custom',
          path: ['input'],
          message: `must be at most ${MAX_INPUT_BYTES} bytes`,
        });
      }
    }
  });

/** A validated StepSpec, defaults applied. */
export type StepSpec = z.output<typeof StepSpec>;
/** What a producer may write: optional fields may be left out. */
export type StepSpecInput = z.input<typeof StepSpec>;
