import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import {
  DEFAULT_FLEET_NAMES,
  type FleetNames,
  fleetNames,
  fleetPrefixProblem,
  JOB_NAME,
  LABELS,
  QUEUE_NAME,
  QUEUE_PREFIX,
  RESERVED_PREFIX_PARTS,
} from './names.js';

/** Every name of a fleet for agent `agentId` and step/worker `id`, keyed by what it names. */
function allNames(names: FleetNames, id: string, agentId: string): string[] {
  return [
    names.events(id),
    names.fence(id),
    names.cancel(),
    names.worker(id),
    names.agentLock(agentId),
    names.homeVolume(agentId),
    names.sharedVaultVolume,
    names.agentsNetwork,
    names.egressProxy,
    names.egressNetwork,
  ];
}

describe('names', () => {
  it('keeps the public queue contract: queue steps, prefix sandfleet, job name step', () => {
    expect([QUEUE_NAME, QUEUE_PREFIX, JOB_NAME]).toEqual(['steps', 'sandfleet', 'step']);
  });

  it("gives the default fleet exactly today's documented Redis and Docker names", () => {
    expect(allNames(fleetNames(), 'abc', 'alice')).toEqual(allNames(DEFAULT_FLEET_NAMES, 'abc', 'alice'));
    expect(allNames(DEFAULT_FLEET_NAMES, 'abc', 'alice')).toEqual([
      'sandfleet:events:abc',
      'sandfleet:fence:abc',
      'sandfleet:cancel',
      'sandfleet:workers:abc',
      'sandfleet:agent-lock:alice',
      'sandfleet-home-alice',
      'sandfleet-vault-shared',
      'sandfleet-agents',
      'sandfleet-egress-proxy',
      'sandfleet-egress',
    ]);
    expect(DEFAULT_FLEET_NAMES.homeVolumePrefix).toBe('sandfleet-home-');
  });

  it("puts every name of another fleet under that fleet's prefix", () => {
    const names = fleetNames('team-a');
    expect(allNames(names, 'abc', 'alice')).toEqual([
      'team-a:events:abc',
      'team-a:fence:abc',
      'team-a:cancel',
      'team-a:workers:abc',
      'team-a:agent-lock:alice',
      'team-a-home-alice',
      'team-a-vault-shared',
      'team-a-agents',
      'team-a-egress-proxy',
      'team-a-egress',
    ]);
  });

  it('gives two fleets no name in common, even for crafted prefixes and ids', () => {
    // Pairs that would meet if prefixes could hold ':' or a reserved part: none is accepted.
    expect(fleetPrefixProblem('a:events')).toBeDefined();
    expect(fleetPrefixProblem('a-home')).toBeDefined();
    expect(fleetPrefixProblem('a-vault')).toBeDefined();
    const prefixes = ['sandfleet', 'a', 'a-b', 'a.b', 'a_b', 'a-b-c', 'sandfleet-2', 'homely', 'x-homes'];
    const ids = ['abc', 'b', 'b-c', 'home-x', 'vault-shared', 'c-home-x', 'egress'];
    const owner = new Map<string, string>();
    for (const prefix of prefixes) {
      const names = fleetNames(prefix);
      for (const id of ids) {
        for (const name of allNames(names, id, id)) {
          const seen = owner.get(name);
          if (seen !== undefined && seen !== prefix) throw new Error(`${name}: ${seen} and ${prefix}`);
          owner.set(name, prefix);
        }
      }
    }
    expect(owner.size).toBeGreaterThan(prefixes.length * ids.length);
  });

  it('makes only Docker-valid names: no prefix with a colon, a slash or a leading dot', () => {
    for (const prefix of ['a:b', 'a/b', '.a', '-a', '', 'x'.repeat(129), 'ä']) {
      expect(fleetPrefixProblem(prefix)).toMatch(/^must be 1 to 128 letters/);
    }
    expect(fleetPrefixProblem('x'.repeat(128))).toBeUndefined();
    for (const name of [
      fleetNames('A.b_c-9').homeVolume('agent_1-x'),
      fleetNames('A.b_c-9').sharedVaultVolume,
    ]) {
      expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
    }
  });

  it('names the reserved part a prefix may not hold, in any case', () => {
    for (const part of RESERVED_PREFIX_PARTS) {
      expect(fleetPrefixProblem(`team-${part.toUpperCase()}-1`)).toMatch(`must not have "${part}"`);
    }
    expect(fleetPrefixProblem('homes-vaults.egress_agents')).toBeUndefined();
  });

  it('refuses to build names for an invalid prefix', () => {
    expect(() => fleetNames('sftest:1')).toThrow(ValidationError);
    expect(() => fleetNames('sftest:1')).toThrow(/prefix: must be 1 to 128/);
  });

  it('keeps the public container label names', () => {
    expect(Object.values(LABELS)).toEqual([
      'sandfleet.managed',
      'sandfleet.step-id',
      'sandfleet.agent-id',
      'sandfleet.worker-id',
      'sandfleet.attempt',
      'sandfleet.fleet',
    ]);
  });
});
