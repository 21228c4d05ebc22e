import type { OutputEvent, StatusEvent, StepEvent } from '@sandfleet/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type TestPostgresServer } from './support/postgres-server.js';
import { type TestFleet as Fleet, TestFleet, type TestWorker } from './support/test-fleet.js';

const output = (events: StepEvent[]) =>
  events
    .filter((e): e is OutputEvent => e.type === 'output')
    .map((e) => e.data)
    .join('');

/**
 * PostgreSQL goes away (its own server, started by this test) while a step runs: the finished
 * container's outcome is kept and written once the database is back, and the step is not run again.
 */
describe('a PostgreSQL outage under a running step', () => {
  let pg: TestPostgresServer;
  let fleet: Fleet;
  let worker: TestWorker;

  beforeAll(async () => {
    pg = await startPostgresServer();
    fleet = await TestFleet.create({ databaseUrl: pg.url });
    worker = await fleet.startWorker();
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await fleet?.close();
    pg?.close();
  });

  it('records the real outcome with attempts = 1 after the database returns, and runs the container once', async () => {
    const agentId = fleet.agentId();
    const id = fleet.stepId();
    const live = fleet.events(id, 90_000);
    await fleet.queue.enqueue({
      id,
      agentId,
      command: ['sh', '-c', 'echo run >> "$HOME/runs"; sleep 2; echo done; exit 3'],
    });
    await fleet
      .until('the step to run', async () => (await fleet.db.steps.get(id))?.status === 'running')
      .catch((error) => {
        throw new Error(`${error.message}: ${worker.logs.join('')}`);
      });
    pg.stop();
    try {
      // The container ends while the database is down; the worker has its outcome and waits.
      await fleet.until('the step to print done', async () =>
        output(await fleet.replay(id)).includes('done'),
      );
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect((await fleet.replay(id)).some((e) => e.type === 'finished')).toBe(false);
    } finally {
      pg.start();
    }
    const events = await live;
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'failed', exitCode: 3 });
    const running = events.filter((e): e is StatusEvent => e.type === 'status' && e.status === 'running');
    expect(running).toHaveLength(1);
    const row = await fleet.terminal(id);
    expect(row).toMatchObject({ status: 'failed', exitCode: 3, attempts: 1 });
    expect(row.output).toBe('done\n');
    expect(worker.logs.join('')).toContain('database unreachable; retrying the write');

    const check = fleet.stepId();
    await fleet.queue.enqueue({ id: check, agentId, command: ['sh', '-c', 'wc -l < "$HOME/runs"'] });
    expect((await fleet.terminal(check)).output.trim()).toBe('1');
  });
});
