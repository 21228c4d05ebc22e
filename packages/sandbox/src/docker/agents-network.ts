import { LABELS } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import { dockerStatus, toSandboxError } from './docker-errors.js';

/**
 * The egress-only bridge network of agent containers, created on demand: inter-container traffic
 * disabled, labelled as Sandfleet's, never shared with the control plane.
 *
 * Race-safe: one lookup-or-create is in flight per instance, and across processes (whose creates
 * may both succeed, since the engine's duplicate check is not atomic) every process settles on
 * the oldest network of that name and refers to it by id, removing extras when it can.
 */
export class AgentsNetwork {
  private pending: Promise<string> | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly name: string,
  ) {}

  /** Id of the network, creating it if needed. */
  ensure(): Promise<string> {
    this.pending ??= this.lookUpOrCreate().catch((error: unknown) => {
      this.pending = undefined;
      throw toSandboxError(error, 'NETWORK_SETUP_FAILED', `cannot set up network ${this.name}`, {});
    });
    return this.pending;
  }

  /** Forgets the cached id (after the network was removed behind our back). */
  invalidate(): void {
    this.pending = undefined;
  }

  private async lookUpOrCreate(): Promise<string> {
    const existing = await this.find();
    if (existing) return existing;
    try {
      await this.docker.createNetwork({
        Name: this.name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { [LABELS.managed]: 'true' },
        Options: { 'com.docker.network.bridge.enable_icc': 'false' },
      });
    } catch (error) {
      if (dockerStatus(error) !== 409) throw error;
    }
    const created = await this.find();
    if (!created) throw new Error(`network ${this.name} vanished right after creation`);
    return created;
  }

  private async find(): Promise<string | undefined> {
    // The engine's name filter matches substrings; keep exact names only.
    const found = (await this.docker.listNetworks({ filters: { name: [this.name] } })).filter(
      (network) => network.Name === this.name,
    );
    found.sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created) || a.Id.localeCompare(b.Id));
    const [oldest, ...extras] = found;
    for (const extra of extras) {
      await this.docker
        .getNetwork(extra.Id)
        .remove()
        .catch(() => undefined);
    }
    return oldest?.Id;
  }
}
