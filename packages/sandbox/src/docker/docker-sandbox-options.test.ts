import { fleetNames } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { homeVolumeName } from './container-spec.js';
import { dockerSandboxConfig, egressConfig } from './docker-sandbox-options.js';

/** The Docker names a sandbox of these options uses for agent `alice`. */
function dockerNames(options: Parameters<typeof dockerSandboxConfig>[0]) {
  const config = dockerSandboxConfig(options);
  const egress = egressConfig(options.egress, options.names);
  return {
    home: homeVolumeName(config, 'alice'),
    vault: config.sharedVaultVolume,
    agentsNetwork: config.agentsNetwork,
    proxy: egress.container,
    egressNetwork: egress.network,
  };
}

describe('Docker names of a fleet', () => {
  it("are today's documented names for the default fleet", () => {
    const expected = {
      home: 'sandfleet-home-alice',
      vault: 'sandfleet-vault-shared',
      agentsNetwork: 'sandfleet-agents',
      proxy: 'sandfleet-egress-proxy',
      egressNetwork: 'sandfleet-egress',
    };
    expect(dockerNames({})).toEqual(expected);
    expect(dockerNames({ names: fleetNames('sandfleet') })).toEqual(expected);
  });

  it("carry another fleet's prefix, so two fleets on one engine share no home, vault or proxy", () => {
    expect(dockerNames({ names: fleetNames('team-a') })).toEqual({
      home: 'team-a-home-alice',
      vault: 'team-a-vault-shared',
      agentsNetwork: 'team-a-agents',
      proxy: 'team-a-egress-proxy',
      egressNetwork: 'team-a-egress',
    });
  });

  it('keep names set explicitly, e.g. the pre-fleet homes of a fleet that migrates', () => {
    const names = dockerNames({
      names: fleetNames('team-a'),
      homeVolumePrefix: 'sandfleet-home-',
      sharedVaultVolume: 'sandfleet-vault-shared',
      agentsNetwork: 'ops_agents',
      egress: { container: 'ops-proxy', network: 'ops_egress' },
    });
    expect(names).toEqual({
      home: 'sandfleet-home-alice',
      vault: 'sandfleet-vault-shared',
      agentsNetwork: 'ops_agents',
      proxy: 'ops-proxy',
      egressNetwork: 'ops_egress',
    });
  });
});
