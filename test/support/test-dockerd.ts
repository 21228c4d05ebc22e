import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';

/**
 * A Docker engine of the test's own: its own socket, data root, exec root and default bridge (an
 * interface the test creates, with no iptables rules), so starting, stopping or restarting it
 * never touches the machine's engine. Not `--bridge none`: an engine started so deletes the
 * machine's `docker0`. Images the test needs are copied in from the machine's engine.
 */
export interface TestDockerd {
  socketPath: string;
  docker: Docker;
  /** Stops the engine with `signal` (SIGTERM: as a service manager restarts it) and waits. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same data. */
  start(): Promise<void>;
  /** Removes every container, stops it, unmounts and deletes its directories. */
  close(): Promise<void>;
}

export interface TestDockerdOptions {
  /** Keep containers running while the engine restarts. @defaultValue true */
  liveRestore?: boolean;
  /** Images copied from the machine's engine. */
  images?: string[];
}

/** Short paths: a unix socket path must stay under 108 bytes. */
export async function startTestDockerd(options: TestDockerdOptions = {}): Promise<TestDockerd> {
  const dir = mkdtempSync('/tmp/sfd-');
  const socketPath = join(dir, 'd.sock');
  // Its own configuration file: the machine's /etc/docker/daemon.json is not this engine's.
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, JSON.stringify({ 'live-restore': options.liveRestore !== false }));
  const logFile = join(dir, 'log');
  const bridge = `sfd${randomBytes(4).toString('hex')}`;
  // 10.234.x.1/24: a private range of this machine only; no route leads anywhere from it.
  const address = `10.234.${randomInt(1, 255)}.1/24`;
  execFileSync('sh', [
    '-c',
    `ip link add ${bridge} type bridge && ip addr add ${address} dev ${bridge} && ip link set ${bridge} up`,
  ]);
  const args = [
    '--config-file',
    configFile,
    '--host',
    `unix://${socketPath}`,
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'x'),
    '--pidfile',
    join(dir, 'd.pid'),
    '--bridge',
    bridge,
    '--iptables=false',
    '--ip-masq=false',
  ];
  const docker = new Docker({ socketPath });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const log = openSync(logFile, 'a');
    child = spawn('dockerd', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    const current = child;
    exited = new Promise((resolve) => current.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await docker.ping();
        return;
      } catch {
        const gone = current.exitCode !== null || current.signalCode !== null;
        if (gone || Date.now() > deadline) {
          const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
          throw new Error(`the test dockerd ${gone ? 'exited' : 'did not answer within 60 s'}: ${tail}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };

  const close = async () => {
    try {
      for (const container of await docker.listContainers({ all: true }))
        await docker.getContainer(container.Id).remove({ force: true });
    } catch {
      // The engine is already down.
    }
    await stop();
    // With live-restore, containerd's shims outlive the engine; they name this engine's directory.
    try {
      execFileSync('pkill', ['-KILL', '-f', `${dir}/`]);
    } catch {
      // None left (pkill exits 1).
    }
    // dockerd bind-mounts its data root (and overlay layers under it) onto itself.
    execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    rmSync(dir, { recursive: true, force: true });
    execFileSync('ip', ['link', 'delete', bridge]);
  };
  try {
    await start();
    for (const image of options.images ?? []) {
      execFileSync('sh', ['-c', `docker save ${image} | docker -H unix://${socketPath} load -q`], {
        stdio: 'pipe',
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { socketPath, docker, stop, start, close };
}
