import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LABELS } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import { SandboxError } from '../errors.js';
import type { SandboxEgressEntry, SandboxRunRequest } from '../sandbox.js';
import { dockerStatus, toSandboxError } from './docker-errors.js';
import { EGRESS_LABEL, EGRESS_PROXY_ALIAS, EGRESS_PROXY_PORT } from './egress-labels.js';
import type { EgressProxy } from './egress-proxy.js';

/** Size of a step network: 16 addresses, of which the step and the proxy use two. */
const STEP_PREFIX_LENGTH = 28;
/** Tries at a free subnet of the pool before giving up. */
const SUBNET_TRIES = 8;
/** After the network is gone, how long the proxy's last log lines of the step may take, ms. */
const LOG_DRAIN_MS = 150;

/** Environment that sends a step's HTTP(S) through the fleet's proxy (npm, pip, apt, git, curl read it). */
export function egressProxyEnv(): Record<string, string> {
  const url = `http://${EGRESS_PROXY_ALIAS}:${EGRESS_PROXY_PORT}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

/** A step's own network, open until `close`. */
export interface StepNetworkLease {
  /** Network name, for the container's `NetworkMode`. */
  name: string;
  /** Settles once the proxy is on the network: await it before the container starts. */
  ready: Promise<void>;
  /** Disconnects the proxy and removes the network; never throws (the reaper retries). */
  close(): Promise<void>;
}

/**
 * Networks of `egress` steps: each step gets its own `internal` bridge with
 * `inhibit_ipv4` (the host has no address on it, so the step has no route to the host, the
 * control plane or link-local addresses whatever the host's firewall says) and only the fleet's
 * {@link EgressProxy} beside it, under the name `egress-proxy`. A network of its own, because on a
 * shared bridge `enable_icc=false` also drops traffic to the proxy (measured on Docker 20.10).
 * Subnets are /28s picked at random from a pool, tried again on overlap; networks are labelled
 * with the worker and step so the reaper removes those of dead workers.
 */
export class AgentsNetwork {
  constructor(
    private readonly docker: Docker,
    /** Prefix of the step networks' names. */
    private readonly prefix: string,
    /** IPv4 pool of step subnets, e.g. `10.213.0.0/16`. */
    private readonly pool: string,
    private readonly proxy: EgressProxy,
  ) {}

  /** Creates the step's network and connects the proxy; `onEgress` gets the step's proxy log lines. */
  async open(
    request: SandboxRunRequest,
    onEgress?: (entry: SandboxEgressEntry) => void,
  ): Promise<StepNetworkLease> {
    const proxyId = await this.proxy.ensure();
    const context = { stepId: request.stepId, workerId: request.workerId };
    const { network, name, proxyAddress } = await this.createNetwork(request).catch((error: unknown) => {
      throw toSandboxError(error, 'NETWORK_SETUP_FAILED', 'cannot create the step network', context);
    });
    const unlisten = onEgress ? this.proxy.listen(proxyAddress, onEgress) : () => undefined;
    const ready = network
      .connect({
        Container: proxyId,
        EndpointConfig: { IPAMConfig: { IPv4Address: proxyAddress }, Aliases: [EGRESS_PROXY_ALIAS] },
      })
      .then(
        () => undefined,
        (error: unknown) => {
          // The proxy was removed or stopped behind our back: look for it again next time.
          this.proxy.invalidate();
          throw toSandboxError(error, 'NETWORK_SETUP_FAILED', 'cannot connect the egress proxy', context);
        },
      );
    ready.catch(() => undefined);
    let closing: Promise<void> | undefined;
    return {
      name,
      ready,
      close: () => {
        closing ??= this.remove(network.id).then(async () => {
          await sleep(LOG_DRAIN_MS);
          unlisten();
        });
        return closing;
      },
    };
  }

  /**
   * Removes the step networks for whose labels `isGone` says so, once no container but the proxy
   * is on them (a step's container is the container reaper's to judge, and goes first); returns
   * the removed networks' ids.
   */
  async removeNetworks(isGone: (labels: Record<string, string>) => Promise<boolean>): Promise<string[]> {
    const networks = await this.docker.listNetworks({
      filters: { label: [`${LABELS.managed}=true`, `${EGRESS_LABEL}=step`] },
    });
    const removed = await Promise.all(
      networks.map(async (network) =>
        (await isGone(network.Labels ?? {})) && (await this.remove(network.Id, { onlyIdle: true }))
          ? network.Id
          : undefined,
      ),
    );
    return removed.filter((id) => id !== undefined);
  }

  private async createNetwork(request: SandboxRunRequest) {
    for (let attempt = 1; ; attempt++) {
      const subnet = pickSubnet(this.pool);
      const name = `${this.prefix}-${randomBytes(4).toString('hex')}`;
      try {
        const network = await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Internal: true,
          Labels: {
            [LABELS.managed]: 'true',
            [EGRESS_LABEL]: 'step',
            [LABELS.stepId]: request.stepId,
            [LABELS.workerId]: request.workerId,
            ...(request.labels?.[LABELS.fleet] === undefined
              ? {}
              : { [LABELS.fleet]: request.labels[LABELS.fleet] }),
          },
          Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
          // The step gets an address of the upper half; the proxy's is fixed below it.
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet.cidr, IPRange: subnet.stepRange }] },
        });
        return { network, name, proxyAddress: subnet.proxyAddress };
      } catch (error) {
        const overlaps = /overlap/i.test(error instanceof Error ? error.message : '');
        if (!overlaps) throw error;
        if (attempt >= SUBNET_TRIES) {
          throw new SandboxError('NETWORK_SETUP_FAILED', `no free /${STEP_PREFIX_LENGTH} in ${this.pool}`, {
            retryable: true,
            cause: error,
            context: { stepId: request.stepId },
          });
        }
      }
    }
  }

  /** Disconnects everything left on the network and removes it; false if that failed (or, with `onlyIdle`, a step's container is still on it). */
  private async remove(id: string, { onlyIdle = false } = {}): Promise<boolean> {
    const network = this.docker.getNetwork(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const info = (await network.inspect()) as { Containers?: Record<string, { Name?: string }> };
        const others = Object.values(info.Containers ?? {}).filter((c) => c.Name !== this.proxy.name);
        if (onlyIdle && others.length > 0) return false;
        await Promise.all(
          Object.keys(info.Containers ?? {}).map((container) =>
            network.disconnect({ Container: container, Force: true }).catch(() => undefined),
          ),
        );
        await network.remove();
        return true;
      } catch (error) {
        if (dockerStatus(error) === 404) return true;
        await sleep(100 * (attempt + 1));
      }
    }
    return false;
  }
}

interface StepSubnet {
  cidr: string;
  stepRange: string;
  proxyAddress: string;
}

/** A random /28 of `pool` (an IPv4 CIDR of at most /28). */
export function pickSubnet(pool: string): StepSubnet {
  const [address = '', bits = ''] = pool.split('/');
  const length = Number(bits);
  const mask = length === 0 ? 0 : (~0 << (32 - length)) >>> 0;
  const base = (toNumber(address) & mask) >>> 0;
  const count = 2 ** (STEP_PREFIX_LENGTH - length);
  const start = (base + randomInt(count) * 2 ** (32 - STEP_PREFIX_LENGTH)) >>> 0;
  return {
    cidr: `${toAddress(start)}/${STEP_PREFIX_LENGTH}`,
    stepRange: `${toAddress(start + 8)}/29`,
    proxyAddress: toAddress(start + 2),
  };
}

function toNumber(address: string): number {
  return address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0) >>> 0;
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}
