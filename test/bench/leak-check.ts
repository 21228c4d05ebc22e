import type Docker from 'dockerode';

/**
 * Containers, volumes and networks still on the engine whose name or labels carry one of `ids`
 * (the run's id, the fleets' ids): what the run made and did not remove.
 */
export async function leftovers(docker: Docker, ids: readonly string[]): Promise<string[]> {
  const carries = (text: string) => ids.some((id) => text.includes(id));
  const labelled = (labels: Record<string, string> | null | undefined) =>
    Object.values(labels ?? {}).some(carries);
  const containers = await docker.listContainers({ all: true });
  const { Volumes: volumes = [] } = await docker.listVolumes();
  const networks = await docker.listNetworks();
  return [
    ...containers
      .filter((c) => c.Names.some(carries) || labelled(c.Labels))
      .map((c) => `container ${c.Names[0] ?? c.Id}`),
    ...volumes.filter((v) => carries(v.Name) || labelled(v.Labels)).map((v) => `volume ${v.Name}`),
    ...networks.filter((n) => carries(n.Name) || labelled(n.Labels)).map((n) => `network ${n.Name}`),
  ];
}
