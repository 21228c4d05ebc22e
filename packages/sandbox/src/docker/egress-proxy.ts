import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LABELS } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import { SandboxError } from '../errors.js';
import type { SandboxEgressEntry } from '../sandbox.js';
import { dockerStatus, toSandboxError } from './docker-errors.js';
import { EGRESS_LABEL } from './egress-labels.js';
import { EgressLock } from './egress-lock.js';
import { parseEgressLogLine } from './egress-log.js';

/** What the fleet's egress proxy is and how it filters; see {@link DockerSandboxOptions}. */
export interface EgressProxyConfig {
  image: string;
  /** Container name of the proxy: one per fleet and engine. */
  container: string;
  /** The proxy's own outbound bridge network (not internal). */
  network: string;
  /** Destinations opened despite the denials: CIDR, ip:port or host:port. */
  allow: readonly string[];
  /** Destinations denied on top of the built-in private, link-local and host ranges. */
  denyCidrs: readonly string[];
  /** When not empty, the only domains steps may reach. */
  allowedDomains: readonly string[];
}

type Listener = (entry: SandboxEgressEntry) => void;

/** How long a (re)started proxy may take to listen, ms. */
const PROXY_START_MS = 20_000;

/**
 * The fleet's egress proxy on one engine: a Squid container (`sandfleet/egress-proxy`) on its own
 * outbound network, shared by every worker of the fleet. Found by name and checked by label, and
 * created, with its network, under an {@link EgressLock}, so workers starting at once settle on
 * one of each. A stopped proxy is started again. Follows the proxy's access log and hands each line
 * to the listener of the proxy address it came in on (every step network has its own).
 */
export class EgressProxy {
  private pending: Promise<string> | undefined;
  private following: Readable | undefined;
  private readonly listeners = new Map<string, Listener>();
  private readonly lock: EgressLock;

  constructor(
    private readonly docker: Docker,
    private readonly config: EgressProxyConfig,
  ) {
    this.lock = new EgressLock(docker, `${config.container}-lock`, config.image);
  }

  /** Container name of the proxy. */
  get name(): string {
    return this.config.container;
  }

  /** Id of the running proxy container, creating the network and the proxy if needed. */
  ensure(): Promise<string> {
    this.pending ??= this.lookUpOrCreate().catch((error: unknown) => {
      this.pending = undefined;
      throw toSandboxError(
        error,
        'NETWORK_SETUP_FAILED',
        `cannot set up egress proxy ${this.config.container}`,
        {},
      );
    });
    return this.pending;
  }

  /** Forgets the cached proxy (after it was removed or stopped behind our back). */
  invalidate(): void {
    this.pending = undefined;
  }

  /** Hands the access-log lines of requests to `proxyAddress` to `listener`; returns the unsubscribe. */
  listen(proxyAddress: string, listener: Listener): () => void {
    this.listeners.set(proxyAddress, listener);
    return () => {
      if (this.listeners.get(proxyAddress) === listener) this.listeners.delete(proxyAddress);
    };
  }

  /** Stops following the log. */
  close(): void {
    this.following?.destroy();
    this.following = undefined;
  }

  private async lookUpOrCreate(): Promise<string> {
    const ready = (await this.findNetwork()) ? await this.findProxy() : undefined;
    if (!ready) await this.checkImage();
    const id = ready ?? (await this.lock.withLock(() => this.create()));
    await this.waitUntilAccepting(id);
    await this.follow(id);
    return id;
  }

  /** Under the lock: the network and the proxy, each found (and checked) or created. */
  private async create(): Promise<string> {
    if (!(await this.findNetwork())) {
      await this.docker.createNetwork({
        Name: this.config.network,
        Driver: 'bridge',
        CheckDuplicate: true,
        Internal: false,
        Labels: { [LABELS.managed]: 'true', [EGRESS_LABEL]: 'network' },
        // Only the proxy is on it: nothing else that joins may talk to it.
        Options: { 'com.docker.network.bridge.enable_icc': 'false' },
      });
    }
    const found = await this.findProxy();
    if (found) return found;
    try {
      const container = await this.docker.createContainer(await this.proxySpec());
      await container.start();
      return container.id;
    } catch (error) {
      // 409: created meanwhile by something that does not take the lock (docker-compose).
      if (dockerStatus(error) !== 409) throw error;
      const other = await this.findProxy();
      if (!other) throw error;
      return other;
    }
  }

  /** The proxy image is needed for the lock and the proxy: say how to get it when it is missing. */
  private async checkImage(): Promise<void> {
    const { image } = this.config;
    try {
      await this.docker.getImage(image).inspect();
    } catch (error) {
      if (dockerStatus(error) !== 404) throw error;
      throw new SandboxError(
        'IMAGE_NOT_FOUND',
        `egress proxy image ${image} is not present locally (never pulled); run infra/images/build-images.sh`,
        { retryable: true, cause: error, context: { image } },
      );
    }
  }

  /** The network's id when it exists and is fit; throws when one of that name is not. */
  private async findNetwork(): Promise<string | undefined> {
    const { network } = this.config;
    // The engine's name filter matches substrings; keep exact names only.
    const found = (await this.docker.listNetworks({ filters: { name: [network] } })).filter(
      (candidate) => candidate.Name === network,
    );
    if (found.length > 1) {
      this.refuse(`${found.length} networks are named ${network}; remove all but one`);
    }
    const [existing] = found;
    if (!existing) return undefined;
    if (existing.Labels?.[LABELS.managed] !== 'true') {
      this.refuse(`network ${network} exists but is not labelled ${LABELS.managed}=true`);
    }
    if (existing.Driver !== 'bridge') this.refuse(`network ${network} exists but is not a bridge`);
    if (existing.Internal)
      this.refuse(`network ${network} exists but is internal (the proxy needs a way out)`);
    return existing.Id;
  }

  /** The proxy's id when it exists, is fit and runs (started if it had stopped). */
  private async findProxy(): Promise<string | undefined> {
    const { container: name, network } = this.config;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(name).inspect();
    } catch (error) {
      if (dockerStatus(error) === 404) return undefined;
      throw error;
    }
    if (info.Config.Labels?.[EGRESS_LABEL] !== 'proxy') {
      this.refuse(
        `container ${name} exists but is not Sandfleet's egress proxy (no label ${EGRESS_LABEL}=proxy)`,
        'SANDFLEET_EGRESS_PROXY',
      );
    }
    if (!info.NetworkSettings.Networks?.[network]) {
      this.refuse(`egress proxy ${name} is not on network ${network}`, 'SANDFLEET_EGRESS_PROXY');
    }
    if (!info.State.Running) {
      await this.docker
        .getContainer(info.Id)
        .start()
        .catch((error: unknown) => {
          if (dockerStatus(error) !== 304) throw error;
        });
    }
    return info.Id;
  }

  private async proxySpec(): Promise<Docker.ContainerCreateOptions> {
    // Docker's own networks may sit outside the private ranges the image denies anyway.
    const subnets = (await this.docker.listNetworks()).flatMap(
      (network) => network.IPAM?.Config?.map((config) => config.Subnet ?? '') ?? [],
    );
    const deny = [...new Set([...this.config.denyCidrs, ...subnets.filter(Boolean)])];
    // Owned by Debian's fixed `proxy` user (uid 13), which Squid runs as: Docker 20.10 keeps the
    // image directory's mode on a tmpfs and ignores `mode=`.
    const tmpfs = 'rw,nosuid,nodev,noexec,size=16m,uid=13,gid=13';
    return {
      name: this.config.container,
      Image: this.config.image,
      Env: [
        `SANDFLEET_EGRESS_ALLOW=${this.config.allow.join(' ')}`,
        `SANDFLEET_EGRESS_DENY_CIDRS=${deny.join(' ')}`,
        `SANDFLEET_EGRESS_ALLOWED_DOMAINS=${this.config.allowedDomains.join(' ')}`,
      ],
      Labels: { [LABELS.managed]: 'true', [EGRESS_LABEL]: 'proxy' },
      HostConfig: {
        NetworkMode: this.config.network,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        Tmpfs: { '/run/squid': tmpfs, '/var/spool/squid': tmpfs, '/var/log/squid': tmpfs, '/tmp': tmpfs },
        Memory: 256 * 1024 * 1024,
        MemorySwap: 256 * 1024 * 1024,
        PidsLimit: 128,
        Init: true,
        RestartPolicy: { Name: 'unless-stopped' },
        // Bounded on the host's disk; the workers read it as it is written.
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      },
    };
  }

  /**
   * Waits for Squid's "Accepting HTTP Socket connections" (in its cache log, on stderr) since the
   * container last started: a step that starts earlier would find nothing listening.
   */
  private async waitUntilAccepting(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    const deadline = Date.now() + PROXY_START_MS;
    while (Date.now() < deadline) {
      const info = await container.inspect();
      if (!info.State.Running && !info.State.Restarting) break;
      const since = Math.floor(Date.parse(info.State.StartedAt) / 1000);
      const log = (await container.logs({ stdout: false, stderr: true, since })) as unknown as Buffer;
      if (log.toString('latin1').includes('Accepting HTTP Socket connections')) return;
      await sleep(100);
    }
    throw new SandboxError(
      'NETWORK_SETUP_FAILED',
      `egress proxy ${this.config.container} did not start listening`,
      {
        retryable: true,
        context: { container: this.config.container },
      },
    );
  }

  /** Follows the proxy's stdout from now on (once per proxy container). */
  private async follow(id: string): Promise<void> {
    if (this.following) return;
    const raw = (await this.docker.getContainer(id).logs({
      follow: true,
      stdout: true,
      stderr: false,
      since: Math.floor(Date.now() / 1000) - 1,
    })) as unknown as Readable;
    const stdout = new PassThrough();
    this.docker.modem.demuxStream(raw, stdout, new PassThrough().resume());
    this.following = raw;
    const ended = () => {
      if (this.following !== raw) return;
      // The proxy stopped or was removed: the next ensure checks it again and follows anew.
      this.following = undefined;
      this.pending = undefined;
      stdout.end();
    };
    raw.on('end', ended).on('close', ended).on('error', ended);
    createInterface({ input: stdout }).on('line', (line) => {
      const parsed = parseEgressLogLine(line);
      if (parsed) this.listeners.get(parsed.proxyAddress)?.(parsed.entry);
    });
  }

  /** `setting`: the worker variable that names the object, for the message. */
  private refuse(problem: string, setting = 'SANDFLEET_EGRESS_NETWORK'): never {
    throw new SandboxError('NETWORK_SETUP_FAILED', `${problem}; remove it or set ${setting}`, {
      retryable: false,
      context: { network: this.config.network, container: this.config.container },
    });
  }
}
