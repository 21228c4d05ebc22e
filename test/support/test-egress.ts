import Docker from 'dockerode';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/** Names of one test fleet's egress objects: its own proxy, so its allow list is its own. */
export function egressNames(id: string) {
  return {
    proxy: `sftest-proxy-${id}`,
    network: `sftest-egress-${id}`,
    agentsPrefix: `sftest-agents-${id}`,
  };
}

/** Worker variables that give a fleet {@link egressNames}. */
export function egressEnv(id: string): Record<string, string> {
  const names = egressNames(id);
  return {
    SANDFLEET_EGRESS_PROXY: names.proxy,
    SANDFLEET_EGRESS_NETWORK: names.network,
    SANDFLEET_AGENTS_NETWORK: names.agentsPrefix,
  };
}

/**
 * Removes a fleet's egress proxy, its lock and its networks, and returns the step networks that
 * were still there (a leak: each step's network goes with the step). Only this fleet's names.
 */
export async function removeEgress(id: string): Promise<string[]> {
  const names = egressNames(id);
  for (const name of [names.proxy, `${names.proxy}-lock`]) {
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  }
  const stepNetworks = await networksNamed(names.agentsPrefix, true);
  for (const network of [...stepNetworks, ...(await networksNamed(names.network))]) {
    const info = (await docker.getNetwork(network.Id).inspect()) as { Containers?: Record<string, unknown> };
    for (const container of Object.keys(info.Containers ?? {})) {
      await docker
        .getNetwork(network.Id)
        .disconnect({ Container: container, Force: true })
        .catch(() => undefined);
    }
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch(() => undefined);
  }
  return stepNetworks.map((network) => network.Name);
}

/** Networks named `name` exactly (or, with `prefix`, `name-…`). */
export async function networksNamed(name: string, prefix = false): Promise<Docker.NetworkInspectInfo[]> {
  const networks = await docker.listNetworks({ filters: { name: [name] } });
  return networks.filter((n) => n.Name === name || (prefix && n.Name.startsWith(`${name}-`)));
}
