import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Makes `app.close()` prompt. `server.close()` waits for every connection but reaps only idle ones,
 * so a connection a client opened without sending a request (browsers and undici pre-connect)
 * would hold the close for minutes: such connections are dropped when closing starts, and whatever
 * is still open `graceMs` later is dropped too.
 */
export function closeConnectionsOnShutdown(app: FastifyInstance, graceMs: number): void {
  const unused = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  app.addHook('onRequest', async (request) => {
    unused.delete(request.raw.socket);
  });
  let forceClose: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    for (const socket of unused) socket.destroy();
    forceClose = setTimeout(() => app.server.closeAllConnections(), graceMs);
    forceClose.unref();
  });
  app.addHook('onClose', async () => {
    clearTimeout(forceClose);
  });
}
