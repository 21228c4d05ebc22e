// Output throughput of StepEventPublisher against a raw XADD+PUBLISH pipeline baseline measured
// in the same run. Run after `pnpm --filter @sandfleet/stream build`:
//   node packages/stream/bench/publish-throughput.mjs [megabytes=64] [chunkBytes=4096]
import { randomUUID } from 'node:crypto';
import { eventsKey, fenceKey } from '@sandfleet/contracts';
import { Redis } from 'ioredis';
import { EventSubscriber, StepEventPublisher } from '../dist/index.js';

const url = process.env.SANDFLEET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const megabytes = Number(process.argv[2] ?? 64);
const chunkBytes = Number(process.argv[3] ?? 4096);
const total = megabytes * 1024 * 1024;
const line = Buffer.from(
  '2025-01-01T00:00:00Z INFO compiling module 0123456789 abcdefghijklmnopqrstuvwxyz\n',
);
const chunk = Buffer.alloc(chunkBytes);
for (let at = 0; at < chunkBytes; at += line.length) line.copy(chunk, at);

const redis = new Redis(url);
const keys = [];

async function baseline() {
  const stepId = `bench-${randomUUID()}`;
  keys.push(eventsKey(stepId));
  const data = chunk
    .toString()
    .repeat(Math.ceil(65536 / chunkBytes))
    .slice(0, 65536);
  const started = performance.now();
  for (let seq = 1, sent = 0; sent < total; seq++, sent += data.length) {
    const json = JSON.stringify({
      stepId,
      seq,
      ts: new Date().toISOString(),
      type: 'output',
      stream: 'stdout',
      data,
    });
    const pipeline = redis.pipeline();
    pipeline.xadd(eventsKey(stepId), 'MAXLEN', '~', 100000, '*', 'e', json);
    pipeline.publish(eventsKey(stepId), json);
    await pipeline.exec();
  }
  return performance.now() - started;
}

async function publisher(secrets, follow) {
  const stepId = `bench-${randomUUID()}`;
  keys.push(eventsKey(stepId), fenceKey(stepId));
  const subscriber = follow ? new EventSubscriber({ redis }) : undefined;
  let received = 0;
  const following = subscriber
    ? (async () => {
        for await (const event of subscriber.follow(stepId))
          if (event.type === 'output') received += event.data.length;
      })()
    : undefined;
  if (subscriber)
    while ((await redis.pubsub('NUMSUB', eventsKey(stepId)))[1] < 1)
      await new Promise((r) => setTimeout(r, 5));
  const started = performance.now();
  const pub = await StepEventPublisher.open({ redis, stepId, secrets, outputLimitBytes: total * 2 });
  for (let sent = 0; sent < total; sent += chunk.length) await pub.output('stdout', chunk);
  await pub.finished({ status: 'succeeded', exitCode: 0 });
  await following;
  const ms = performance.now() - started;
  await subscriber?.close();
  if (follow && received !== total) throw new Error(`follower received ${received} of ${total}`);
  return { ms, events: pub.lastSeq };
}

const mbps = (ms) => (megabytes / (ms / 1000)).toFixed(1);
try {
  await publisher([], false); // warm-up
  const base = await baseline();
  const plain = await publisher([], false);
  const redacted = await publisher(
    ['sk-live-0123456789abcdef', 'ghp_abcdefghijklmnopqrstuvwxyz012345', 'hunter22'],
    false,
  );
  const followed = await publisher([], true);
  console.log(`output ${megabytes} MiB in ${chunkBytes}-byte chunks`);
  console.log(`baseline raw XADD+PUBLISH of 64 KiB events: ${mbps(base)} MB/s`);
  for (const [name, run] of [
    ['publisher, no secrets', plain],
    ['publisher, 3 secrets', redacted],
    ['publisher + live follower', followed],
  ]) {
    console.log(
      `${name}: ${mbps(run.ms)} MB/s (${(base / run.ms).toFixed(2)}x baseline), ${run.events} events`,
    );
  }
} finally {
  await redis.del(...keys);
  await redis.quit();
}
