import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { AGENT_IMAGE, docker } from './agent-image.js';
import { type DecodedRuntimeEvent, decodeRuntimeOutput } from './runtime-events.js';

export const RUNTIME_IMAGE = AGENT_IMAGE.minimal;

export interface StepRunOptions {
  /** The agent's home volume, mounted at /home/agent. */
  home: string;
  argv: string[];
  /** Environment of the step (values stay out of the docker command line). */
  env?: Record<string, string>;
  /** Extra `docker run` arguments (bind mounts of test files, `--name`). */
  extra?: string[];
  /** Run with Docker's init process, as the worker does. @defaultValue `true` */
  init?: boolean;
}

export interface StepRun {
  code: number;
  stdout: string;
  stderr: string;
  events: DecodedRuntimeEvent[];
  /** stdout without the event sequences. */
  plain: string;
  eventToken: string;
}

/** A step container started with `spawnStep`. */
export interface RunningStep {
  process: ChildProcess;
  /** Resolves once the step's stdout contains `text`. */
  printed(text: string, timeoutMs: number): Promise<void>;
  /** Resolves when `docker run` exits. */
  done: Promise<StepRun>;
}

/**
 * Docker resources of one test file, all labelled with its random id: a bridge network (whose
 * gateway is where the host serves git), the shared vault and agent home volumes, and step
 * containers run like the worker runs them (hardened, one per step, removed after).
 */
export class RuntimeDockerHarness {
  readonly id = randomBytes(5).toString('hex');
  readonly label = `sandfleet.test-runtime=${this.id}`;
  readonly network = `sandfleet-test-rt-${this.id}`;
  readonly sharedVault = `sandfleet-test-rt-${this.id}-shared`;
  gateway = '';
  #homes = 0;

  async start(): Promise<void> {
    await must(['network', 'create', '--driver', 'bridge', '--label', this.label, this.network]);
    const inspect = await must([
      'network',
      'inspect',
      '-f',
      '{{(index .IPAM.Config 0).Gateway}}',
      this.network,
    ]);
    this.gateway = inspect.trim();
    await must(['volume', 'create', '--label', this.label, this.sharedVault]);
  }

  /** A fresh agent home volume. */
  async createHome(): Promise<string> {
    const name = `sandfleet-test-rt-${this.id}-home${++this.#homes}`;
    await must(['volume', 'create', '--label', this.label, name]);
    return name;
  }

  /** `docker run` arguments of a step, environment names only (their values come from `env`). */
  runArgs(options: StepRunOptions, eventToken: string): { args: string[]; env: NodeJS.ProcessEnv } {
    const stepEnv = { SANDFLEET_EVENT_TOKEN: eventToken, ...options.env };
    const args = [
      'run',
      '--rm',
      ...(options.init === false ? [] : ['--init']),
      '--label',
      this.label,
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--pids-limit',
      '256',
      '--memory',
      '512m',
      '--network',
      this.network,
      '-v',
      `${options.home}:/home/agent`,
      '-v',
      `${this.sharedVault}:/home/agent/vault/shared`,
      ...Object.keys(stepEnv).flatMap((name) => ['-e', name]),
      ...(options.extra ?? []),
      RUNTIME_IMAGE,
      ...options.argv,
    ];
    return { args, env: { PATH: process.env.PATH, ...stepEnv } };
  }

  /** Runs one step to its end. */
  async run(options: StepRunOptions): Promise<StepRun> {
    return this.spawnStep(options).done;
  }

  /** Starts one step; `done` resolves when `docker run` exits. */
  spawnStep(options: StepRunOptions): RunningStep {
    const eventToken = randomBytes(16).toString('hex');
    const { args, env } = this.runArgs(options, eventToken);
    const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const stdout = () => Buffer.concat(out).toString('utf8');
    const printed = (text: string, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!stdout().includes(text)) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve();
        };
        const timer = setTimeout(() => {
          child.stdout.off('data', check);
          reject(new Error(`'${text}' not printed within ${timeoutMs} ms`));
        }, timeoutMs);
        child.stdout.on('data', check);
        check();
      });
    const done = new Promise<StepRun>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        const text = stdout();
        resolve({
          code: code ?? -1,
          stdout: text,
          stderr: Buffer.concat(err).toString('utf8'),
          eventToken,
          ...decodeRuntimeOutput(text, eventToken),
        });
      });
    });
    return { process: child, printed, done };
  }

  /** Runs `bash -c script` over the home volume in a plain container (no runtime, no network). */
  async inspectHome(home: string, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return docker([
      'run',
      '--rm',
      '--label',
      this.label,
      '--network',
      'none',
      '--entrypoint',
      'bash',
      '-v',
      `${home}:/home/agent`,
      RUNTIME_IMAGE,
      '-c',
      script,
    ]);
  }

  /** Removes everything labelled with this harness's id; returns what was still left after. */
  async close(): Promise<{ containers: string; volumes: string; networks: string }> {
    const filter = ['--filter', `label=${this.label}`];
    const containers = (await docker(['ps', '-aq', ...filter])).stdout.split('\n').filter(Boolean);
    if (containers.length > 0) await docker(['rm', '-f', ...containers]);
    const volumes = (await docker(['volume', 'ls', '-q', ...filter])).stdout.split('\n').filter(Boolean);
    if (volumes.length > 0) await docker(['volume', 'rm', '-f', ...volumes]);
    await docker(['network', 'rm', this.network]);
    return {
      containers: (await docker(['ps', '-aq', ...filter])).stdout.trim(),
      volumes: (await docker(['volume', 'ls', '-q', ...filter])).stdout.trim(),
      networks: (await docker(['network', 'ls', '-q', ...filter])).stdout.trim(),
    };
  }
}

async function must(args: string[]): Promise<string> {
  const result = await docker(args);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}
