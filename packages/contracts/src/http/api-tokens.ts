import * as z from 'zod';
import { TEAM_PATTERN, TeamName, VaultAccess } from '../shared-vault.js';

/** A bearer token's text: 16 to 512 URL- and cookie-safe characters (as `SANDFLEET_API_TOKENS`). */
export const API_TOKEN_TEXT_PATTERN = /^[A-Za-z0-9._~+/=-]{16,512}$/;
/** A token's name: what steps record as their `producer`, logs show as `tokenName`, and its default team. */
export const API_TOKEN_NAME_PATTERN = TEAM_PATTERN;
/**
 * A scope pattern: `*` matches any run of characters (none included), `?` exactly one, anything
 * else itself. Printable ASCII without spaces, so it can name agents, secrets and images.
 */
export const SCOPE_GLOB_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** What {@link ApiTokenQuotas} default to for a token of the tokens file. */
export const DEFAULT_TOKEN_QUOTAS = Object.freeze({
  /** Steps of the token not yet ended (`queued` or `running`). */
  maxQueued: 1000,
  /** Bytes of one job: file contents (decoded) + `input` (JSON) + `env` names and values. */
  maxJobBytes: 8 * 1024 * 1024,
  /** Steps created per minute (per API process). */
  createsPerMinute: 600,
});

const Quota = (max: number) => z.int().min(1, { error: 'must be at least 1' }).max(max);

/** Per-token quotas; each field left out takes its {@link DEFAULT_TOKEN_QUOTAS} value. */
export const ApiTokenQuotas = z.strictObject({
  maxQueued: Quota(10_000_000).optional(),
  maxJobBytes: Quota(1024 ** 3).optional(),
  createsPerMinute: Quota(1_000_000).optional(),
});
export type ApiTokenQuotas = z.infer<typeof ApiTokenQuotas>;

const Globs = z
  .array(z.string().regex(SCOPE_GLOB_PATTERN, { error: 'must be 1–256 printable characters, no spaces' }))
  .max(1000);

/**
 * One token of `SANDFLEET_API_TOKENS_FILE`: its `name`, exactly one of `token` (the bearer
 * token itself) or `sha256` (its SHA-256, 64 lower-case hex digits), and what it may use. A
 * dimension left out is not restricted; an empty list allows nothing.
 */
export const ApiTokenEntry = z
  .strictObject({
    name: z.string().regex(API_TOKEN_NAME_PATTERN, { error: `must match ${API_TOKEN_NAME_PATTERN.source}` }),
    token: z
      .string()
      .regex(API_TOKEN_TEXT_PATTERN, { error: 'must be 16 to 512 characters among A-Za-z0-9._~+/=-' })
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lower-case hex digits (sha256sum of the token)' })
      .optional(),
    /** Agent ids (`agentId`) the token may run, read and follow steps and chats of. */
    agents: Globs.optional(),
    /** Secret names its steps may list in `secrets`. */
    secrets: Globs.optional(),
    /** Images its steps may name (the worker's default image counts as named). */
    images: Globs.optional(),
    /** Whose shared vault its steps mount (`sharedVault.team`). @defaultValue the token's `name` */
    team: TeamName.optional(),
    /** The most its steps may ask of the team's vault (`sharedVault.access`). @defaultValue 'write' */
    vault: VaultAccess.optional(),
    quotas: ApiTokenQuotas.optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.token === undefined) === (entry.sha256 === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'give exactly one of token and sha256' });
    }
  });
export type ApiTokenEntry = z.infer<typeof ApiTokenEntry>;

/** The JSON of `SANDFLEET_API_TOKENS_FILE`: at least one token, names unique. */
export const ApiTokensFile = z
  .strictObject({ tokens: z.array(ApiTokenEntry).min(1, { error: 'must list at least one token' }) })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.tokens.forEach((entry, index) => {
      const first = seen.get(entry.name);
      if (first === undefined) seen.set(entry.name, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['tokens', index, 'name'],
          message: `repeats tokens.${first}.name`,
        });
    });
  });
export type ApiTokensFile = z.infer<typeof ApiTokensFile>;
