import { randomBytes } from 'node:crypto';
import { type RunningApi, startApi } from '@sandfleet/api';
import { ApiConfig, parseConfig } from '@sandfleet/config';
import { createLogger } from '@sandfleet/logging';
import { createRedisConnection, WarmHintQueue } from '@sandfleet/queue';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProgram } from '../src/program.js';

const DATABASE_URL =
  process.env.SANDFLEET_TEST_DATABASE_URL ?? 'postgres://sandfleet:sandfleet@127.0.0.1:5432/sandfleet';
const REDIS_URL = process.env.SANDFLEET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const id = randomBytes(5).toString('hex');
const prefix = `sftest-${id}`;
const token = randomBytes(24).toString('hex');

/** Runs `sandfleet …args` in this process on the fleet's Redis; its stdout, stderr and exit code. */
async function sandfleet(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = {
    SANDFLEET_REDIS_URL: REDIS_URL,
    SANDFLEET_QUEUE_PREFIX: prefix,
    SANDFLEET_API_URL: undefined,
    SANDFLEET_API_TOKEN: undefined,
  };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const setEnv = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  setEnv(env);
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
  try {
    process.exitCode = undefined;
    await createProgram().parseAsync(['node', 'sandfleet', ...args]);
    return { stdout: out.join(''), stderr: err.join(''), code: Number(process.exitCode ?? 0) };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = undefined;
    setEnv(saved);
  }
}

describe('sandfleet warm', () => {
  let api: RunningApi;
  let hints: WarmHintQueue;
  const queued = async () =>
    (await hints.queue.getJobs(['waiting']))
      .map((job) => job.data)
      .sort((a, b) => a.agentId.localeCompare(b.agentId));

  beforeAll(async () => {
    hints = new WarmHintQueue({ redisUrl: REDIS_URL, prefix });
    // The warm route reads nothing from PostgreSQL: the schema need not exist.
    const config = parseConfig(ApiConfig, {
      SANDFLEET_DATABASE_URL: DATABASE_URL,
      SANDFLEET_DATABASE_SCHEMA: `t_${id}`,
      SANDFLEET_REDIS_URL: REDIS_URL,
      SANDFLEET_QUEUE_PREFIX: prefix,
      SANDFLEET_API_HOST: '127.0.0.1',
      SANDFLEET_API_PORT: '0',
      SANDFLEET_API_TOKENS: token,
    }) as ApiConfig;
    api = await startApi(config, createLogger({ name: 'api', level: 'silent' }));
  });

  afterAll(async () => {
    await api?.close();
    await hints?.queue.obliterate({ force: true });
    await hints?.close();
    // The API's steps queue left its meta key; the rest of the fleet's keys were the hints'.
    const admin = createRedisConnection({ url: REDIS_URL, role: 'producer', name: 'sandfleet-test-admin' });
    const left = await admin.keys(`${prefix}:*`);
    if (left.length > 0) await admin.del(...left);
    admin.disconnect();
    expect(left).toEqual([`${prefix}:steps:meta`]);
  });

  it('queues a hint straight on Redis and prints one line', async () => {
    expect(await sandfleet('warm', 'alice')).toEqual({
      stdout: 'warm hint queued for agent alice\n',
      stderr: '',
      code: 0,
    });
    expect(await queued()).toContainEqual({ agentId: 'alice' });
  });

  it('queues a hint through the API with --api and --token, the image with it', async () => {
    const result = await sandfleet(
      '--api',
      api.url,
      '--token',
      token,
      'warm',
      'bob',
      '--image',
      'sandfleet/agent-runtime:1',
    );
    expect(result).toEqual({
      stdout: 'warm hint queued for agent bob (sandfleet/agent-runtime:1)\n',
      stderr: '',
      code: 0,
    });
    expect(await queued()).toContainEqual({ agentId: 'bob', image: 'sandfleet/agent-runtime:1' });
  });

  it('exits 2 naming the field for a bad agent id, in both modes, and 1 for a refused token', async () => {
    const direct = await sandfleet('warm', 'Not An Agent');
    expect(direct.code).toBe(2);
    expect(direct.stderr).toMatch(/^sandfleet: .*agentId: must match .*\[VALIDATION_FAILED\]\n$/);
    const viaApi = await sandfleet('--api', api.url, '--token', token, 'warm', 'Not-An-Agent');
    expect(viaApi.code).toBe(2);
    expect(viaApi.stderr).toMatch(/agentId: must match .*\[VALIDATION_FAILED\]/);
    const refused = await sandfleet('--api', api.url, '--token', 'wrong-token-0123456789', 'warm', 'carol');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[UNAUTHORIZED]');
    expect((await queued()).map((hint) => hint.agentId)).toEqual(['alice', 'bob']);
  });
});
