import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * A unix-socket proxy in front of a Docker engine that can lose waits and refuse removals. While
 * `stallWaits` is on, a connection that carries a container wait never gets its answer, even
 * after the engine behind it went away and came back (as a wait sent to an engine that is
 * shutting down may never be answered). New connections made while the engine is down wait for
 * it instead of being refused, so a client's inspects never see the outage: the watchdog is the
 * first to see what became of the container. While `refuseRemovals` is on, every container
 * removal is answered 409 "removal already in progress" without reaching the engine, as an engine
 * that shuts down mid-removal answers and then keeps the container. While `loseExitStatus` is on,
 * every inspect of a container that exited 0 answers exit code 255, as an engine that restarted
 * after losing a container's exit status does (its event stream still carries the real code).
 */
export interface StallingDockerProxy {
  socketPath: string;
  /** Waits sent from now on are never answered. */
  stallWaits: boolean;
  /** How many waits were stalled so far. */
  readonly stalled: number;
  /** Removals sent from now on are answered 409 and never reach the engine. */
  refuseRemovals: boolean;
  /** How many removals were refused so far. */
  readonly refused: number;
  /** Inspects answered from now on report exit code 255 for a container that exited 0. */
  loseExitStatus: boolean;
  /** How many inspect answers were rewritten so far. */
  readonly rewritten: number;
  close(): Promise<void>;
}

const WAIT_REQUEST = /^POST \/[^ ]*containers\/[^/ ]+\/wait/m;
const REMOVE_REQUEST = /^DELETE \/[^ ]*containers\/([^/? ]+)/;
/** A stopped container's state in an inspect answer, and the same bytes saying exit code 255. */
const EXITED_ZERO = '"Dead":false,"Pid":0,"ExitCode":0,';
const EXIT_LOST = '"Dead":0,"Pid":0,"ExitCode":255,  ';
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
  const state = {
    stallWaits: false,
    stalled: 0,
    refuseRemovals: false,
    refused: 0,
    loseExitStatus: false,
    rewritten: 0,
  };

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
      const removal = state.refuseRemovals ? REMOVE_REQUEST.exec(chunk.toString('latin1')) : null;
      if (removal) {
        state.refused += 1;
        client.write(conflict(`removal of container ${removal[1]} is already in progress`));
        return;
      }
      if (!stalled && state.stallWaits && WAIT_REQUEST.test(chunk.toString('latin1'))) {
        stalled = true;
        state.stalled += 1;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (stalled) return;
      const text = state.loseExitStatus ? chunk.toString('latin1') : '';
      if (!text.includes(EXITED_ZERO)) return client.write(chunk);
      // Same length, so the chunked framing stays right.
      state.rewritten += 1;
      client.write(Buffer.from(text.replaceAll(EXITED_ZERO, EXIT_LOST), 'latin1'));
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
  // The switches and counts are the state the connections read: the proxy is that object.
  return Object.assign(state, {
    socketPath,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** An engine's 409 answer, keeping the connection open as the engine does. */
function conflict(message: string): string {
  const body = `${JSON.stringify({ message })}\n`;
  return [
    'HTTP/1.1 409 Conflict',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
