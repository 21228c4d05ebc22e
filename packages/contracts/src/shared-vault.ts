import * as z from 'zod';

/**
 * A team's name: whose shared vault a step mounts (`<prefix>-vault-<team>`); characters of a
 * Docker volume name. It is also the pattern of an API token's name (`API_TOKEN_NAME_PATTERN`),
 * since a token's team defaults to its name.
 */
export const TEAM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * The team of a step that names none (raw-BullMQ producers, unrestricted tokens): its vault is
 * the fleet's one shared vault of before teams, `<prefix>-vault-shared`.
 */
export const DEFAULT_TEAM = 'shared';

/** `read`: the shared vault is mounted read-only; `write`: read-write. */
export const VaultAccess = z.enum(['read', 'write'], { error: 'must be one of read, write' });
export type VaultAccess = z.infer<typeof VaultAccess>;

/** A team name ({@link TEAM_PATTERN}). */
export const TeamName = z.string().regex(TEAM_PATTERN, { error: `must match ${TEAM_PATTERN.source}` });

/**
 * StepSpec's `sharedVault`: which team's vault is mounted at `/home/agent/vault/shared`, and how.
 * Through the API a scoped token's team is filled in (naming another is refused) and `write`
 * needs a token that allows it.
 */
export const StepSharedVault = z.strictObject({
  /** @defaultValue the token's team through the API, else {@link DEFAULT_TEAM} */
  team: TeamName.optional(),
  /** @defaultValue 'read' */
  access: VaultAccess.default('read'),
});
export type StepSharedVault = z.output<typeof StepSharedVault>;

/** Where the shared vault is, relative to `/home/agent`. */
export const SHARED_VAULT_HOME_PATH = 'vault/shared';

/** Whether a home path (relative to `/home/agent`) is the shared vault or inside it. */
export function inSharedVault(path: string): boolean {
  return path === SHARED_VAULT_HOME_PATH || path.startsWith(`${SHARED_VAULT_HOME_PATH}/`);
}
