import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.js';

/** Where Bull Board is served. */
export const BOARD_PREFIX = '/admin/queues';

/** Options of {@link boardPlugin}. */
export interface BoardPluginOptions {
  /** The BullMQ queue of steps (`StepQueue.queue`). */
  queue: ApiDeps['queue']['queue'];
}

/**
 * Bull Board at {@link BOARD_PREFIX}, read-only: operators see queues, jobs, their logs (the
 * step's output) and workers by name, but cannot retry, promote or clean. A step's lifecycle is
 * owned by Sandfleet (PostgreSQL row + events); a retry from the board would bypass it.
 */
export async function boardPlugin(app: FastifyInstance, options: BoardPluginOptions): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PREFIX);
  createBullBoard({
    queues: [new BullMQAdapter(options.queue, { readOnlyMode: true, allowRetries: false })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Sandfleet' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BOARD_PREFIX });
}
