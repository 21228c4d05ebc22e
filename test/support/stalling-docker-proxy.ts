import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * A unix-socket proxy in front of a test's own Docker engine that can lose waits: while
 * `stallWaits` is on, a connection that carries a container wait never gets its answer, even
 * after the engine behind it went away and came back (as a wait sent to an engine that is
 * shutting down may never be answered). New connections made while the engine is down wait for
 * it instead of being refused, so a client's inspects never see the outage: the watchdog is the
 * first to see what became of the container.
 */
export interface StallingDockerProxy {
  socketPath: string;
  /** Waits sent from now on are never answered. */
  stallWaits: boolean;
  /** How many waits were stalled so far. */
  readonly stalled: number;
  close(): Promise<void>;
}

const WAIT_REQUEST = /^POST \/[^ ]*containers\/[^/ ]+\/wait/m;
const UPSTREAM_RETRY_MS = 100;
const UPSTREAM_DEADLINE_MS = 90_000;

export async function startStallingDockerProxy(upstreamSocket: string): Promise<StallingDockerProxy> {
  const dir = mkdtempSync('/tmp/sfp-');
  const socketPath = join(dir, 'p.sock');
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const state = { stallWaits: false, stalled: 0 };

  const server = createServer((client) => {
    track(client);
    client.pause();
    const deadline = Date.now() + UPSTREAM_DEADLINE_MS;
    const open = () => {
      const upstream = connect(upstreamSocket);
      track(upstream);
      upstream.once('error', () => {
        if (client.destroyed || Date.now() > deadline) return client.destroy();
        setTimeout(open, UPSTREAM_RETRY_MS);
      });
      upstream.once('connect', () => pipe(client, upstream));
    };
    open();
  });

  const pipe = (client: Socket, upstream: Socket) => {
    let stalled = false;
    client.on('data', (chunk: Buffer) => {
      if (!stalled && state.stallWaits && WAIT_REQUEST.test(chunk.toString('latin1'))) {
        stalled = true;
        state.stalled += 1;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!stalled) client.write(chunk);
    });
    // A stalled connection stays open towards the client when the engine drops it.
    upstream.once('close', () => {
      if (!stalled) client.destroy();
    });
    client.once('close', () => upstream.destroy());
    client.resume();
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    get stallWaits() {
      return state.stallWaits;
    },
    set stallWaits(on: boolean) {
      state.stallWaits = on;
    },
    get stalled() {
      return state.stalled;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
