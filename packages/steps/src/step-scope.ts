import type { StepSharedVault, StepSpec, VaultAccess } from '@sandfleet/contracts';
import { StepsError } from './errors.js';

/** What a token may use; a dimension left undefined is not restricted, an empty list allows nothing. */
export interface TokenScope {
  /** Globs of agent ids (`*` any run of characters, `?` one). */
  agents?: readonly string[] | undefined;
  /** Globs of secret names. */
  secrets?: readonly string[] | undefined;
  /** Globs of image references. */
  images?: readonly string[] | undefined;
  /** The one team whose shared vault its steps mount; undefined: any, as the spec names it. */
  team?: string | undefined;
  /** The most its steps may ask of the team's vault; undefined: `write` allowed. */
  vault?: VaultAccess | undefined;
}

/** A token's quotas (see `DEFAULT_TOKEN_QUOTAS` in `@sandfleet/contracts`). */
export interface TokenQuotaLimits {
  maxQueued: number;
  maxJobBytes: number;
  createsPerMinute: number;
}

/**
 * Who makes a request: an API token's name (recorded as the step's `producer`), its scope and
 * its quotas (none: unlimited). Use cases called without one (the CLI on Redis and PostgreSQL
 * directly, no-auth mode) are trusted as Redis itself is.
 */
export interface Principal {
  name: string;
  scope: TokenScope;
  quotas?: TokenQuotaLimits | undefined;
}

/** The dimensions restricted by globs. */
export type ScopeDimension = 'agents' | 'secrets' | 'images';

const globCache = new WeakMap<readonly string[], RegExp>();

function globsRegExp(globs: readonly string[]): RegExp {
  let regexp = globCache.get(globs);
  if (!regexp) {
    const alternatives = globs.map((glob) =>
      glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`)),
    );
    regexp = new RegExp(alternatives.length === 0 ? '(?!)' : `^(?:${alternatives.join('|')})$`, 's');
    globCache.set(globs, regexp);
  }
  return regexp;
}

/** Whether `value` matches one of `globs` (`*` any run of characters, `?` one, the rest literal). */
export function matchesGlobs(globs: readonly string[], value: string): boolean {
  return globsRegExp(globs).test(value);
}

/** Whether `principal` may use `value` on `dimension`; anything goes without a principal. */
export function isAllowed(
  principal: Principal | undefined,
  dimension: ScopeDimension,
  value: string,
): boolean {
  const globs = principal?.scope[dimension];
  return globs === undefined || matchesGlobs(globs, value);
}

/** The `FORBIDDEN` error naming `field` (`agentId: not allowed for token team-a`). */
export function forbidden(field: string, principal: Principal, why = 'not allowed'): StepsError {
  return new StepsError('FORBIDDEN', `${field}: ${why} for token ${principal.name}`, {
    context: { field, tokenName: principal.name },
  });
}

/**
 * Throws unless `principal` may use `value` on `dimension`.
 * @throws StepsError `FORBIDDEN` naming `field`.
 */
export function assertAllowed(
  principal: Principal | undefined,
  field: string,
  dimension: ScopeDimension,
  value: string,
): void {
  if (principal && !isAllowed(principal, dimension, value)) throw forbidden(field, principal);
}

/**
 * Throws unless `principal` may run `spec`: its agent, each secret and its image. A spec without
 * `image` runs the worker's default image, which counts as named: without `defaultImage` a
 * token restricted on images must name one.
 * @throws StepsError `FORBIDDEN` naming the first field out of scope.
 */
export function assertSpecAllowed(
  principal: Principal | undefined,
  spec: StepSpec,
  defaultImage?: string,
): void {
  if (!principal) return;
  assertAllowed(principal, 'agentId', 'agents', spec.agentId);
  spec.secrets.forEach((name, index) => {
    assertAllowed(principal, `secrets.${index}`, 'secrets', name);
  });
  assertImageAllowed(principal, spec.image, defaultImage);
}

/**
 * Throws unless `principal` may run `image`, or, when it is undefined, `defaultImage` (the
 * worker's default image, which counts as named): without either, a token restricted on images
 * must name one.
 * @throws StepsError `FORBIDDEN` naming `image`.
 */
export function assertImageAllowed(
  principal: Principal | undefined,
  image: string | undefined,
  defaultImage?: string,
): void {
  if (!principal) return;
  const named = image ?? defaultImage;
  if (named === undefined && principal.scope.images !== undefined)
    throw forbidden('image', principal, 'must be named (the default image is not in scope)');
  if (named !== undefined) assertAllowed(principal, 'image', 'images', named);
}

/**
 * The `sharedVault` a step of `principal` runs with: the spec's, with the token's team filled in
 * when it names none. Undefined when there is nothing to fill in (no principal, or neither a
 * team of the token nor a `sharedVault` in the spec): the worker's defaults then apply.
 * @throws StepsError `FORBIDDEN` for another team (`sharedVault.team`) or for `write` to a token
 *   that allows only `read` (`sharedVault.access`).
 */
export function scopedSharedVault(
  principal: Principal | undefined,
  spec: Pick<StepSpec, 'sharedVault'>,
): StepSharedVault | undefined {
  const asked = spec.sharedVault;
  const team = principal?.scope.team;
  if (!principal || team === undefined) return asked;
  if (asked?.team !== undefined && asked.team !== team) throw forbidden('sharedVault.team', principal);
  const access = asked?.access ?? 'read';
  if (access === 'write' && principal.scope.vault === 'read')
    throw forbidden('sharedVault.access', principal, 'write not allowed');
  return { team, access };
}

/**
 * Throws unless `principal` may see the step of `agentId`. Reading another agent's step, its
 * events or its cancel answers 403 (not 404): ids are the producer's own choice, so hiding that
 * one exists protects little, and a clear refusal is easier to act on.
 * @throws StepsError `FORBIDDEN` naming `stepId`.
 */
export function assertStepVisible(principal: Principal | undefined, agentId: string | undefined): void {
  if (!principal || principal.scope.agents === undefined) return;
  if (agentId === undefined || !matchesGlobs(principal.scope.agents, agentId))
    throw forbidden('stepId', principal);
}
