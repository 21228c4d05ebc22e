import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultFleet, type FaultReport, formatReport, formatTroubled } from './fault-fleet.js';

const reports: FaultReport[] = [];

/** A failed assertion's message: the table, then each troubled step with its worker log lines. */
function diagnosis(report: FaultReport): string {
  return `${formatReport(report)}\n${formatTroubled(report)}`;
}

/** Every accepted step ends succeeded exactly once, whatever was killed or restarted. */
function expectNothingLost(report: FaultReport): void {
  expect(report, diagnosis(report)).toMatchObject({
    lost: 0,
    stuck: 0,
    attemptsRunTwice: 0,
    containersLeft: 0,
    byStatus: { succeeded: report.accepted },
  });
}

/**
 * The fault suite (`pnpm test:faults`): 200 steps on two workers, one fault each, against a Redis,
 * a PostgreSQL and a Docker engine the suite starts itself, so the machine's services are never
 * touched. Prints a table per fault and writes them all to `test/test-results/faults.json`.
 */
describe.sequential('faults under load', () => {
  let fleet: FaultFleet | undefined;

  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
    const dir = new URL('../test-results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL('faults.json', dir), `${JSON.stringify(reports, null, 2)}\n`);
  });

  const run = async (fault: string, inject: (fleet: FaultFleet) => Promise<void>) => {
    fleet = await FaultFleet.start();
    const current = fleet;
    const report = await fleet.load(fault, () => inject(current));
    reports.push(report);
    console.log(formatReport(report));
    return report;
  };

  it('SIGKILL a worker, start another', async () => {
    const report = await run('SIGKILL one worker, start a new one', async (fleet) => {
      fleet.workers[0]?.process.kill('SIGKILL');
      fleet.spawnWorker();
    });
    expectNothingLost(report);
  });

  it('restart Redis as set-up provisions it', async () => {
    const report = await run('Redis restarted (append-only, everysec)', async (fleet) => {
      await fleet.redis.stop();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await fleet.redis.start();
    });
    expectNothingLost(report);
  });

  it('stop PostgreSQL for 10 s', async () => {
    const report = await run('PostgreSQL stopped for 10 s', async (fleet) => {
      fleet.postgres.stop();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      fleet.postgres.start();
    });
    expectNothingLost(report);
    expect(report.finishedRunAgain, diagnosis(report)).toBe(0);
  });

  it('restart the Docker daemon', async () => {
    const report = await run('Docker daemon restarted (SIGTERM, start again)', async (fleet) => {
      await fleet.dockerd.stop('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await fleet.dockerd.start();
    });
    expectNothingLost(report);
    expect(report.finishedRunAgain, diagnosis(report)).toBe(0);
  });
});
