/**
 * Latency of a trivial step through Sandfleet (enqueue → first output, enqueue → recorded outcome)
 * next to a raw dockerode create → start → wait → remove of the same image and command, measured
 * in the same run. Prints medians, p90s and ratios against the raw baseline.
 *
 *   pnpm --filter @sandfleet/system-tests bench:latency [iterations]
 */
import Docker from 'dockerode';
import { TEST_IMAGE, TestFleet } from '../support/test-fleet.ts';

const iterations = Number(process.argv[2] ?? 20);
const docker = new Docker();
const command = ['echo', 'hello'];

/** What Sandfleet asks of Docker for every step: limits, hardening, the agent's home and the vault. */
const hardened = (agentId: string) => ({
  NetworkMode: 'none',
  Init: true,
  CapDrop: ['ALL'],
  SecurityOpt: ['no-new-privileges'],
  Memory: 64 * 1024 * 1024,
  MemorySwap: 64 * 1024 * 1024,
  NanoCpus: 1e9,
  PidsLimit: 256,
  LogConfig: { Type: 'none', Config: {} },
  Mounts: [
    { Type: 'volume' as const, Source: `sandfleet-home-${agentId}`, Target: '/home/agent' },
    { Type: 'volume' as const, Source: 'sandfleet-vault-shared', Target: '/home/agent/vault/shared' },
  ],
});

async function rawRun(
  hostConfig: object = { NetworkMode: 'none' },
): Promise<{ total: number; firstOutput: number }> {
  const t0 = performance.now();
  const container = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: command,
    Labels: { 'sandfleet.bench': 'true' },
    HostConfig: hostConfig,
  });
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  let firstOutput = 0;
  stream.once('data', () => {
    firstOutput = performance.now() - t0;
  });
  await container.start();
  await container.wait();
  const total = performance.now() - t0;
  await container.remove({ force: true });
  return { total: performance.now() - t0, firstOutput: firstOutput || total };
}

async function sandfleetRun(
  fleet: TestFleet,
  agentId: string,
): Promise<{ total: number; firstOutput: number }> {
  const id = fleet.stepId();
  let firstOutput = 0;
  let total = 0;
  const t0 = performance.now();
  // `finished` is published right after the outcome is recorded in PostgreSQL.
  const follow = (async () => {
    for await (const event of fleet.subscriber.follow(id, { signal: AbortSignal.timeout(30_000) })) {
      if (event.type === 'output' && !firstOutput) firstOutput = performance.now() - t0;
      if (event.type === 'finished') total = performance.now() - t0;
    }
  })();
  await fleet.queue.enqueue({ id, agentId, command });
  await follow;
  const row = await fleet.db.steps.get(id);
  if (row?.status !== 'succeeded') throw new Error(`bench step ${id} ended ${row?.status}`);
  return { total, firstOutput };
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const fmt = (ms: number) => `${ms.toFixed(1).padStart(7)} ms`;

const fleet = await TestFleet.create();
try {
  await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '1', SANDFLEET_LOG_LEVEL: 'warn' });
  const agentId = fleet.agentId();
  for (let i = 0; i < 3; i++) {
    await rawRun();
    await rawRun(hardened(agentId));
    await sandfleetRun(fleet, agentId);
  }
  const raw: { total: number; firstOutput: number }[] = [];
  const rawHardened: { total: number; firstOutput: number }[] = [];
  const ours: { total: number; firstOutput: number }[] = [];
  for (let i = 0; i < iterations; i++) {
    raw.push(await rawRun());
    rawHardened.push(await rawRun(hardened(agentId)));
    ours.push(await sandfleetRun(fleet, agentId));
  }
  const rawTotal = quantile(
    raw.map((r) => r.total),
    0.5,
  );
  const rows: [string, number[]][] = [
    ['raw dockerode create→start→wait→remove', raw.map((r) => r.total)],
    ['raw dockerode first output', raw.map((r) => r.firstOutput)],
    ["raw dockerode, Sandfleet's container settings", rawHardened.map((r) => r.total)],
    ['sandfleet enqueue→first output', ours.map((r) => r.firstOutput)],
    ['sandfleet enqueue→recorded outcome', ours.map((r) => r.total)],
  ];
  console.log(`trivial step (${command.join(' ')}) on ${TEST_IMAGE}, ${iterations} iterations, interleaved`);
  for (const [name, values] of rows) {
    const median = quantile(values, 0.5);
    console.log(
      `${name.padEnd(42)} median ${fmt(median)}  p90 ${fmt(quantile(values, 0.9))}  ratio ${(median / rawTotal).toFixed(2)}`,
    );
  }
} finally {
  await fleet.close();
}
