import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '@sandfleet/logging';
import { createRedisConnection, WarmHintQueue } from '@sandfleet/queue';
import type { SandboxWarmOutcome, SandboxWarmRequest } from '@sandfleet/sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import { ImageAllowlist } from '../src/image-allowlist.js';
import { WarmHints } from '../src/warm-hints.js';

const REDIS_URL = process.env.SANDFLEET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const limits = {
  defaults: { timeoutMs: 60_000, memoryMb: 64, cpus: 1, pids: 256, outputBytes: 1024 * 1024, diskMb: 1024 },
  maxima: {
    timeoutMs: 3_600_000,
    memoryMb: 1024,
    cpus: 4,
    pids: 1024,
    outputBytes: 16 * 1024 * 1024,
    diskMb: 8192,
  },
};

/** A Sandbox of `warm` only: it records requests and answers what `answer` says. */
function fakeSandbox(answer: (request: SandboxWarmRequest) => Promise<SandboxWarmOutcome>) {
  const requests: SandboxWarmRequest[] = [];
  return {
    requests,
    warm: async (request: SandboxWarmRequest) => {
      requests.push(request);
      return answer(request);
    },
  };
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const token = randomBytes(5).toString('hex');
const prefix = `sftest-${token}`;
const closables: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const closable of closables.splice(0).reverse()) await closable.close();
  const admin = createRedisConnection({ url: REDIS_URL, role: 'producer', name: 'sandfleet-test-admin' });
  const hints = new WarmHintQueue({ redisUrl: REDIS_URL, prefix });
  await hints.queue.obliterate({ force: true });
  await hints.close();
  const keys = await admin.keys(`${prefix}:*`);
  const connections = async () =>
    ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(token)).length;
  for (const deadline = Date.now() + 2000; (await connections()) > 0 && Date.now() < deadline; )
    await new Promise((resolve) => setTimeout(resolve, 20));
  const left = await connections();
  await admin.quit();
  expect({ keys, connections: left }).toEqual({ keys: [], connections: 0 });
});

function start(sandbox: ReturnType<typeof fakeSandbox>) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const hints = new WarmHints({
    workerId: `${token}-w1`,
    sandbox,
    images: new ImageAllowlist(['sandfleet/agent-runtime:*', 'sandfleet/test-busybox:*']),
    defaultImage: 'sandfleet/test-busybox:latest',
    limits,
    fleet: `${prefix}.steps`,
    logger: createLogger({ name: 'worker', level: 'info', destination }),
    redisUrl: REDIS_URL,
    queue: { prefix },
  });
  const producer = new WarmHintQueue({ redisUrl: REDIS_URL, prefix, dedupeMs: 100 });
  closables.push(producer, hints);
  return { hints, producer, lines };
}

describe('WarmHints (a worker consuming warm hints)', () => {
  it('turns a queued hint into the sandbox.warm request of the agent’s next step, and logs the outcome', async () => {
    const sandbox = fakeSandbox(async () => 'warmed');
    const { hints, producer, lines } = start(sandbox);
    await hints.start();
    await producer.add({ agentId: 'alice', image: 'sandfleet/agent-runtime:1' });
    await producer.add({ agentId: 'bob' });
    await until('two warms', () => sandbox.requests.length === 2);
    const byAgent = (agentId: string) => sandbox.requests.find((request) => request.agentId === agentId);
    expect(byAgent('alice')).toEqual({
      agentId: 'alice',
      workerId: `${token}-w1`,
      image: 'sandfleet/agent-runtime:1',
      limits: limits.defaults,
      network: 'none',
      sharedVault: { team: 'shared', writable: false },
      labels: { 'sandfleet.fleet': `${prefix}.steps` },
    });
    expect(byAgent('bob')?.image).toBe('sandfleet/test-busybox:latest');
    await until('the log lines', () => lines.filter((line) => line.msg === 'warm hint handled').length === 2);
    expect(lines.find((line) => line.agentId === 'alice')).toMatchObject({
      msg: 'warm hint handled',
      outcome: 'warmed',
      image: 'sandfleet/agent-runtime:1',
    });
  });

  it('survives hints that fail: an image outside the allowlist, a sandbox that throws, and keeps warming', async () => {
    const sandbox = fakeSandbox(async (request) => {
      if (request.agentId === 'boom') throw new Error('engine exploded');
      return 'present';
    });
    const { hints, producer, lines } = start(sandbox);
    await hints.start();
    await producer.add({ agentId: 'mallory', image: 'ubuntu:24.04' });
    await producer.add({ agentId: 'boom' });
    await until('both failures logged', () =>
      ['warm hint refused', 'warm hint failed'].every((msg) => lines.some((line) => line.msg === msg)),
    );
    expect(lines.find((line) => line.msg === 'warm hint refused')).toMatchObject({
      agentId: 'mallory',
      code: 'IMAGE_NOT_ALLOWED',
    });
    expect(sandbox.requests.map((request) => request.agentId)).not.toContain('mallory');
    await producer.add({ agentId: 'carol' });
    await until('the next hint', () =>
      lines.some((line) => line.agentId === 'carol' && line.outcome === 'present'),
    );
  });

  it('answers each outcome from warm() without throwing', async () => {
    const sandbox = fakeSandbox(async () => {
      throw new Error('down');
    });
    const { hints } = start(sandbox);
    await expect(hints.warm({ agentId: 'dave' })).resolves.toBe('error');
    await expect(hints.warm({ agentId: 'dave', image: 'ubuntu:24.04' })).resolves.toBe('refused');
  });
});
