import { ValidationError } from './errors.js';
import { DEFAULT_TEAM } from './shared-vault.js';

/** BullMQ queue name of steps (public contract). */
export const QUEUE_NAME = 'steps';
/**
 * Prefix of the default fleet, and so of its BullMQ keys (`sandfleet:steps:*`), its other Redis
 * names and its Docker names (public contract).
 */
export const QUEUE_PREFIX = 'sandfleet';
/** BullMQ job name of a step (public contract). */
export const JOB_NAME = 'step';

/**
 * Segments that follow the prefix in a fleet's own Redis names (`<prefix>:events:…`). A queue
 * may not be named after one: BullMQ keys are `<prefix>:<queue>:<jobId>` and job id = step id.
 */
export const RESERVED_REDIS_SEGMENTS = ['events', 'fence', 'cancel', 'workers', 'agent-lock'] as const;

/**
 * Words that follow the prefix in a fleet's Docker names (`<prefix>-home-<agentId>`). A prefix
 * may not have one as a `-`-separated part, or fleet `a-home` and fleet `a` could name one volume
 * (`a-home-home-x` is `a`'s home of agent `home-x`). Without such a part, a name has one reading.
 */
export const RESERVED_PREFIX_PARTS = ['home', 'vault', 'agents', 'egress'] as const;

/** Characters of a fleet prefix: those of a Docker volume name, so no `:` (nor `/`). */
const PREFIX_CHARS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * What is wrong with `prefix` as a fleet's prefix (`SANDFLEET_QUEUE_PREFIX`), undefined when
 * nothing is. It names the fleet's Redis keys and its Docker volumes and networks, so it must be
 * a Docker name and must not make two fleets' names meet.
 */
export function fleetPrefixProblem(prefix: string): string | undefined {
  if (!PREFIX_CHARS.test(prefix)) {
    return "must be 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit (no ':': it names Docker volumes)";
  }
  const reserved = prefix
    .toLowerCase()
    .split('-')
    .find((part) => (RESERVED_PREFIX_PARTS as readonly string[]).includes(part));
  if (reserved !== undefined) {
    return `must not have "${reserved}" as a '-'-separated part (reserved: ${RESERVED_PREFIX_PARTS.join(', ')}): the fleet's Docker names would read as another fleet's`;
  }
  return undefined;
}

/**
 * Every name a fleet owns in Redis and on a Docker engine, built from its prefix. The table with
 * the default fleet's values is in docs/design.md ("Fleets and names"); fleets on one Redis or one
 * engine are apart exactly when their prefixes differ.
 */
export interface FleetNames {
  /** The fleet's prefix (`SANDFLEET_QUEUE_PREFIX`), also its BullMQ prefix. */
  readonly prefix: string;
  /** Pub/sub channel and replay stream of a step's events: `<prefix>:events:<stepId>`. */
  events(stepId: string): string;
  /** Which attempt of a step may publish its events, and whether it has finished: `<prefix>:fence:<stepId>`. */
  fence(stepId: string): string;
  /** Pub/sub channel on which cancel requests nudge the worker running the step: `<prefix>:cancel`. */
  cancel(): string;
  /** Heartbeat key of a live worker: `<prefix>:workers:<workerId>`; `*` makes the SCAN pattern. */
  worker(workerId: string): string;
  /** One step at a time per agent: `<prefix>:agent-lock:<agentId>` holds the step id. */
  agentLock(agentId: string): string;
  /** What an agent's home volume name starts with: `<prefix>-home-`. */
  readonly homeVolumePrefix: string;
  /** An agent's home volume: `<prefix>-home-<agentId>`. */
  homeVolume(agentId: string): string;
  /** The default team's shared vault volume: `<prefix>-vault-shared` (team `shared`). */
  readonly sharedVaultVolume: string;
  /** What a team's shared vault volume name starts with: `<prefix>-vault-`. */
  readonly teamVaultVolumePrefix: string;
  /** A team's shared vault volume: `<prefix>-vault-<team>`; `team` matches `TEAM_PATTERN`. */
  teamVaultVolume(team: string): string;
  /** Name prefix of the per-step networks of `egress` steps: `<prefix>-agents` (`-<random>` follows). */
  readonly agentsNetwork: string;
  /** Container of the fleet's egress proxy: `<prefix>-egress-proxy` (its lock: `…-lock`). */
  readonly egressProxy: string;
  /** The egress proxy's outbound network: `<prefix>-egress`. */
  readonly egressNetwork: string;
}

/**
 * The one builder of a fleet's Redis and Docker names. Ids reaching it are validated against
 * `ID_PATTERN` / `AGENT_ID_PATTERN`, which allow no `:`.
 * @param prefix @defaultValue {@link QUEUE_PREFIX}, whose names are the documented defaults.
 * @throws ValidationError `VALIDATION_FAILED` for a prefix {@link fleetPrefixProblem} rejects.
 */
export function fleetNames(prefix: string = QUEUE_PREFIX): FleetNames {
  const problem = fleetPrefixProblem(prefix);
  if (problem !== undefined)
    throw new ValidationError('fleet prefix', [{ path: 'prefix', message: problem }]);
  const redis = (...parts: string[]) => [prefix, ...parts].join(':');
  const homeVolumePrefix = `${prefix}-home-`;
  const teamVaultVolumePrefix = `${prefix}-vault-`;
  return Object.freeze({
    prefix,
    events: (stepId: string) => redis('events', stepId),
    fence: (stepId: string) => redis('fence', stepId),
    cancel: () => redis('cancel'),
    worker: (workerId: string) => redis('workers', workerId),
    agentLock: (agentId: string) => redis('agent-lock', agentId),
    homeVolumePrefix,
    homeVolume: (agentId: string) => homeVolumePrefix + agentId,
    sharedVaultVolume: teamVaultVolumePrefix + DEFAULT_TEAM,
    teamVaultVolumePrefix,
    teamVaultVolume: (team: string) => teamVaultVolumePrefix + team,
    agentsNetwork: `${prefix}-agents`,
    egressProxy: `${prefix}-egress-proxy`,
    egressNetwork: `${prefix}-egress`,
  });
}

/** The default fleet's names: exactly the documented `sandfleet:…` keys and `sandfleet-…` volumes. */
export const DEFAULT_FLEET_NAMES: FleetNames = fleetNames();

/** Labels every Sandfleet container and volume carries (public contract). */
export const LABELS = {
  managed: 'sandfleet.managed',
  stepId: 'sandfleet.step-id',
  agentId: 'sandfleet.agent-id',
  workerId: 'sandfleet.worker-id',
  attempt: 'sandfleet.attempt',
  /** The fleet (queue) a container belongs to: a worker reaps only its own fleet's orphans. */
  fleet: 'sandfleet.fleet',
} as const;
