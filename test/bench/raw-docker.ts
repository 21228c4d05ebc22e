import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { since } from './stats.ts';

/** Label on every container and volume the raw baselines make: the run's id. */
export const BENCH_RUN_LABEL = 'sandfleet.bench.run';

const MIB = 1024 * 1024;
/** Sandfleet's mount points (`AGENT_HOME`, `SHARED_VAULT_PATH`, `RUNTIME_DIR` of @sandfleet/sandbox). */
const AGENT_HOME = '/home/agent';
const SHARED_VAULT_PATH = '/home/agent/vault/shared';
const RUNTIME_DIR = '/sandfleet';
const SCRATCH_DIRS = ['/tmp', '/var/tmp', '/run'];

/** The limits a Sandfleet step runs under when it sets none (the bench worker's defaults). */
export interface RawLimits {
  memoryMb: number;
  cpus: number;
  pids: number;
  diskMb: number;
}

/** One raw lifecycle: create → attach → start → wait → remove. */
export interface RawCycle {
  /** create → the first byte read from the attach stream. */
  firstOutputMs: number;
  /** create → the exit seen through `wait`, with all output read. */
  exitMs: number;
  /** create → removed. */
  totalMs: number;
  /** start → the attach stream's end. */
  streamMs: number;
  /** Bytes of stdout and stderr (demultiplexed). */
  bytes: number;
}

/** A started container waiting on stdin; `trigger` writes one line and times what follows. */
export interface WarmContainer {
  trigger(): Promise<{ firstOutputMs: number; exitMs: number }>;
  remove(): Promise<void>;
}

/**
 * The raw Docker baselines, with the container settings Sandfleet's `containerSpec`
 * (packages/sandbox/src/docker/container-spec.ts) gives a step of a non-runtime image that sets
 * no limits: mirrored here, since the package does not export the builder. Everything it makes
 * is labelled with the run's id and named after it.
 */
export class RawDocker {
  readonly docker = new Docker();
  readonly runId: string;
  readonly limits: RawLimits;
  #image: { id: string; user: string } | undefined;
  #count = 0;
  readonly #volumes = new Set<string>();

  constructor(runId: string, limits: RawLimits) {
    this.runId = runId;
    this.limits = limits;
  }

  /** Resolves the image once, as a Sandfleet run resolves it to an id before its create. */
  async init(image: string): Promise<void> {
    const info = await this.docker.getImage(image).inspect();
    this.#image = { id: info.Id, user: info.Config.User ?? '' };
  }

  /** A new agent of the raw side: its own home volume, as a new Sandfleet agent gets. */
  agent(): string {
    this.#count += 1;
    return `${this.runId}-home-${this.#count}`;
  }

  /** The create body: Sandfleet's hardening and limits, the home, the vault and the runtime dir. */
  spec(home: string, argv: string[], stdin = false): Docker.ContainerCreateOptions {
    if (!this.#image) throw new Error('RawDocker.init() was not called');
    const { memoryMb, cpus, pids, diskMb } = this.limits;
    const labels = { [BENCH_RUN_LABEL]: this.runId };
    const vault = `${this.runId}-vault`;
    this.#volumes.add(home).add(vault);
    const tmpfs = (dir: string) =>
      `rw,exec,nosuid,nodev,size=${diskMb}m,mode=${dir === '/run' ? '755' : '1777'}`;
    const volume = (source: string | undefined, target: string): Docker.MountSettings =>
      ({
        Type: 'volume',
        ...(source === undefined ? {} : { Source: source }),
        Target: target,
        ReadOnly: false,
        VolumeOptions: { NoCopy: false, Labels: labels },
      }) as unknown as Docker.MountSettings;
    this.#count += 1;
    return {
      name: `${this.runId}-c${this.#count}`,
      Image: this.#image.id,
      Cmd: argv,
      Env: [],
      ...(this.#image.user ? { User: this.#image.user } : {}),
      Labels: labels,
      Tty: false,
      OpenStdin: stdin,
      StdinOnce: stdin,
      AttachStdin: stdin,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        Memory: memoryMb * MIB,
        MemorySwap: memoryMb * MIB,
        NanoCpus: Math.round(cpus * 1e9),
        PidsLimit: pids,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Privileged: false,
        ReadonlyRootfs: true,
        Tmpfs: Object.fromEntries(SCRATCH_DIRS.map((dir) => [dir, tmpfs(dir)])),
        Init: true,
        AutoRemove: false,
        RestartPolicy: { Name: 'no' },
        NetworkMode: 'none',
        LogConfig: { Type: 'none', Config: {} },
        Mounts: [volume(home, AGENT_HOME), volume(vault, SHARED_VAULT_PATH), volume(undefined, RUNTIME_DIR)],
      },
    };
  }

  /** The full raw lifecycle of one step of `argv` on `home`. */
  async cycle(home: string, argv: string[]): Promise<RawCycle> {
    const start = performance.now();
    const container = await this.docker.createContainer(this.spec(home, argv));
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      let firstOutputMs = 0;
      let bytes = 0;
      const counter = () =>
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            if (firstOutputMs === 0) firstOutputMs = since(start);
            bytes += chunk.length;
            done();
          },
        });
      const ended = new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
      });
      this.docker.modem.demuxStream(stream, counter(), counter());
      await container.start();
      const started = performance.now();
      await container.wait();
      await Promise.race([ended, sleep(10_000)]);
      const streamMs = since(started);
      const exitMs = since(start);
      await container.remove({ force: true, v: true });
      return { firstOutputMs: firstOutputMs || exitMs, exitMs, totalMs: since(start), streamMs, bytes };
    } catch (error) {
      await container.remove({ force: true, v: true }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A container created and started ahead (same settings, plus an open stdin), running
   * `sh -c 'read _; <script>'`: it waits for one line, as a warm pool's container would wait
   * for its step.
   */
  async warm(home: string, script: string): Promise<WarmContainer> {
    const container = await this.docker.createContainer(
      this.spec(home, ['sh', '-c', `read _; ${script}`], true),
    );
    const remove = () => container.remove({ force: true, v: true }).then(() => undefined);
    try {
      const stream = (await container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
      })) as NodeJS.ReadWriteStream;
      await container.start();
      return {
        remove,
        trigger: async () => {
          const exited = container.wait();
          // The wait is on the engine before the trigger, as a pool's worker would hold it.
          await sleep(50);
          let firstOutputMs = 0;
          const start = performance.now();
          stream.once('data', () => {
            firstOutputMs = since(start);
          });
          stream.write('go\n');
          await exited;
          const exitMs = since(start);
          return { firstOutputMs: firstOutputMs || exitMs, exitMs };
        },
      };
    } catch (error) {
      await remove().catch(() => undefined);
      throw error;
    }
  }

  /** Removes every container and volume of the run (never throws). */
  async cleanup(): Promise<void> {
    const containers = await this.docker
      .listContainers({ all: true, filters: { label: [`${BENCH_RUN_LABEL}=${this.runId}`] } })
      .catch(() => []);
    for (const info of containers)
      await this.docker
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    const { Volumes = [] } = await this.docker
      .listVolumes({ filters: { label: [`${BENCH_RUN_LABEL}=${this.runId}`] } })
      .catch(() => ({ Volumes: [] }));
    const names = new Set([...this.#volumes, ...Volumes.map((volume) => volume.Name)]);
    for (const name of names)
      await this.docker
        .getVolume(name)
        .remove()
        .catch(() => undefined);
  }
}
