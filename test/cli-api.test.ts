import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StepPage } from '@sandfleet/client';
import type { StepEvent } from '@sandfleet/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, cliEnvFrom, runCli, spawnCli } from './support/cli-process.js';
import { spawnCliInTerminal } from './support/cli-terminal.js';
import { startRedisServer } from './support/redis-server.js';
import { type RunningApi, startTestApi, testToken } from './support/test-api.js';
import { TestFleet } from './support/test-fleet.js';

/** Nothing listens here: a CLI that reached for Redis or PostgreSQL itself would fail. */
const DEAD_REDIS = 'redis://127.0.0.1:9';
const DEAD_DATABASE = 'postgres://nobody:nothing@127.0.0.1:9/nothing';

describe('sandfleet CLI through the HTTP API, ls, doctor and up', () => {
  let fleet: TestFleet;
  let api: RunningApi;
  let token: string;
  /** Redis and PostgreSQL directly (as in cli.test.ts). */
  let directEnv: Record<string, string>;
  /** Only the API: the CLI's own Redis and PostgreSQL URLs lead nowhere. */
  let apiEnv: Record<string, string>;
  const spawned: CliProcess[] = [];
  /** Queues of this fleet other than its own `steps`, removed at the end. */
  const extraQueues: string[] = [];

  const direct = (...args: string[]) => runCli(args, { env: directEnv });
  const viaApi = (...args: string[]) => runCli(args, { env: apiEnv });
  const track = (cli: CliProcess) => {
    spawned.push(cli);
    return cli;
  };

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '4' });
    token = testToken();
    api = await startTestApi(fleet, { SANDFLEET_API_TOKENS: token });
    directEnv = { ...cliEnvFrom(fleet.workerEnv()), SANDFLEET_AGENT_ID: fleet.agentId() };
    apiEnv = {
      ...directEnv,
      SANDFLEET_REDIS_URL: DEAD_REDIS,
      SANDFLEET_DATABASE_URL: DEAD_DATABASE,
      SANDFLEET_API_URL: api.url,
      SANDFLEET_API_TOKEN: token,
    };
  });

  afterEach(async () => {
    for (const cli of spawned.splice(0)) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await api?.close();
    for (const name of extraQueues) {
      for await (const keys of fleet.redis.scanStream({ match: `${fleet.prefix}:${name}:*`, count: 1000 })) {
        if ((keys as string[]).length > 0) await fleet.redis.del(...(keys as string[]));
      }
    }
    await fleet?.close();
  });

  it("runs a step through the API, printing its output and exiting with the step's exit code", async () => {
    const id = fleet.stepId();
    const result = await viaApi('run', '--id', id, '--script', 'echo out; echo err >&2; exit 3');
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toContain('err\n');
    expect(result.stderr).toContain('step failed (exit code 3)');
    expect(await fleet.db.steps.get(id)).toMatchObject({ status: 'failed', exitCode: 3 });

    // The same through --api and --token instead of the environment.
    const { SANDFLEET_API_URL: _url, SANDFLEET_API_TOKEN: _token, ...noApiEnv } = apiEnv;
    const hello = await runCli(
      ['--api', api.url, '--token', token, 'run', '--id', fleet.stepId(), '--', 'echo', 'hello'],
      {
        env: noApiEnv,
      },
    );
    expect(hello).toMatchObject({ code: 0, stdout: 'hello\n', stderr: '' });
  });

  it('keeps the exit codes of direct mode: 2 for an invalid spec, 1 when the API is down or refuses the token', async () => {
    const id = fleet.stepId();
    const invalid = await viaApi('run', '--id', id, '--agent', 'Bad Agent', '--', 'true');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('agentId');
    expect(invalid.stderr).toContain('[VALIDATION_FAILED]');
    expect(await fleet.db.steps.get(id)).toBeUndefined();

    const down = await runCli(['run', '--', 'true'], {
      env: { ...apiEnv, SANDFLEET_API_URL: 'http://127.0.0.1:9' },
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('[API_UNREACHABLE]');
    expect(down.stderr).toContain('sandfleet up');

    const refused = await runCli(['status', id], { env: { ...apiEnv, SANDFLEET_API_TOKEN: testToken() } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[UNAUTHORIZED]');
  });

  it("follows a running step with logs -f through the API until it ends, exiting with the step's exit code", async () => {
    const id = fleet.stepId();
    const detached = await viaApi(
      'run',
      '--detach',
      '--id',
      id,
      '--script',
      'echo begin; sleep 3; echo end; exit 3',
    );
    expect(detached).toMatchObject({ code: 0, stdout: `${id}\n` });
    await fleet.until('the step to run', async () => (await fleet.db.steps.get(id))?.status === 'running');
    const logs = track(spawnCli(['logs', '-f', id], { env: apiEnv }));
    await fleet.until('logs -f to print the first line', async () => logs.stdout.includes('begin\n'));
    expect((await fleet.db.steps.get(id))?.status).toBe('running');
    expect(await logs.exited).toMatchObject({ code: 3, stdout: 'begin\nend\n' });

    expect(await viaApi('logs', id)).toMatchObject({ code: 0, stdout: 'begin\nend\n' });
    const status = await viaApi('status', id, '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({
      id,
      status: 'failed',
      exitCode: 3,
      output: 'begin\nend\n',
    });
    expect(await viaApi('status', fleet.stepId())).toMatchObject({ code: 1, stdout: '' });
  });

  it('cancels a running step through the API; a concurrent logs -f through the API exits 130', async () => {
    const id = fleet.stepId();
    await viaApi('run', '--detach', '--id', id, '--', 'sleep', '30');
    const logs = track(spawnCli(['logs', '-f', '--json', id], { env: apiEnv }));
    await fleet.until('logs -f to see the step running', async () =>
      logs.stdout.includes('"status":"running"'),
    );
    const cancel = await viaApi('cancel', id);
    expect(cancel).toMatchObject({ code: 0, stdout: `cancel requested for step ${id} (running)\n` });
    const followed = await logs.exited;
    expect(followed.code).toBe(130);
    const events = followed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as StepEvent);
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'cancelled' });
    expect((await viaApi('status', id)).stdout).toMatch(/^status\s+cancelled$/m);
    expect(await viaApi('cancel', id)).toMatchObject({
      code: 0,
      stdout: `step ${id} already ended: cancelled\n`,
    });
    expect((await viaApi('cancel', fleet.stepId())).code).toBe(1);
  });

  it('lists steps with ls, directly and through the API alike: table, --json, filters and pages', async () => {
    const agent = fleet.agentId();
    const batch = `b${Date.now()}`;
    const ids: string[] = [];
    for (const [i, command] of [['true'], ['false'], ['true']].entries()) {
      const id = `${fleet.stepId()}-${i}`;
      ids.push(id);
      const run = await viaApi(
        'run',
        '--id',
        id,
        '--agent',
        agent,
        '--label',
        `batch=${batch}`,
        '--',
        ...command,
      );
      expect(run.code).toBe(i === 1 ? 1 : 0);
    }
    const newestFirst = [...ids].reverse();

    const fromDb = await direct('ls', '--agent', agent, '--json');
    const fromApi = await viaApi('ls', '--agent', agent, '--json');
    expect(fromDb.code).toBe(0);
    const page = JSON.parse(fromDb.stdout) as StepPage;
    expect(page.items.map((step) => step.id)).toEqual(newestFirst);
    expect(page.nextCursor).toBeNull();
    expect(JSON.parse(fromApi.stdout)).toEqual(page);

    for (const ls of [direct, viaApi]) {
      const table = await ls('ls', '--agent', agent);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID\s+AGENT\s+STATUS\s+EXIT\s+CREATED\s+DURATION$/);
      expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
        [newestFirst[0], agent, 'succeeded', '0'],
        [newestFirst[1], agent, 'failed', '1'],
        [newestFirst[2], agent, 'succeeded', '0'],
      ]);
      expect(table.stderr).toBe('');

      const failed = await ls('ls', '--agent', agent, '--status', 'failed', '--json');
      expect((JSON.parse(failed.stdout) as StepPage).items.map((step) => step.id)).toEqual([ids[1]]);

      const first = await ls('ls', '--label', `batch=${batch}`, '--limit', '2');
      expect(first.stdout.trimEnd().split('\n')).toHaveLength(3);
      const hint = first.stderr.match(/^more: sandfleet ls (.*)$/m);
      expect(hint?.[1]).toMatch(new RegExp(`^--label batch=${batch} --limit 2 --cursor \\S+$`));
      const rest = await ls('ls', ...(hint?.[1] ?? '').split(' '));
      expect(rest.stdout).toContain(newestFirst[2]);
      expect(rest.stdout.trimEnd().split('\n')).toHaveLength(2);
      expect(rest.stderr).toBe('');

      expect((await ls('ls', '--cursor', 'not-a-cursor')).code).toBe(2);
      expect((await ls('ls', '--limit', '0')).code).toBe(2);
      expect(await ls('ls', '--run', 'no-such-run')).toMatchObject({
        code: 0,
        stdout: '',
        stderr: 'no steps\n',
      });
    }
  });

  it('shows a queued… spinner on a terminal while the step waits in the queue, and none when piped', async () => {
    // A queue no worker takes from: the step stays queued until it is cancelled.
    const idleEnv = { ...directEnv, SANDFLEET_QUEUE_NAME: 'steps-idle' };
    extraQueues.push('steps-idle');
    const id = fleet.stepId();
    const terminal = track(spawnCliInTerminal(['run', '--id', id, '--', 'echo', 'never'], { env: idleEnv }));
    await fleet.until(
      'the spinner to count a second',
      async () => terminal.stdout.includes('queued… 1s'),
      15_000,
    );
    const piped = track(spawnCli(['logs', '-f', id], { env: idleEnv }));
    await fleet.until(
      'the row to be queued',
      async () => (await fleet.db.steps.get(id))?.status === 'queued',
    );
    expect(await runCli(['cancel', id], { env: idleEnv })).toMatchObject({
      code: 0,
      stdout: `step ${id} cancelled\n`,
    });
    expect((await terminal.exited).code).toBe(130);
    expect(await piped.exited).toMatchObject({ code: 130, stdout: '' });
    expect((await piped.exited).stderr).not.toContain('queued…');
  });

  it('doctor says the Docker engine is not reachable and how to start it, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandfleet-doctor-'));
    try {
      const socket = join(dir, 'docker.sock');
      const env = { ...fleet.workerEnv(), SANDFLEET_DOCKER_SOCKET: socket };
      const result = await runCli(['doctor'], { env });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        new RegExp(`^FAIL\\s+docker\\s+Docker engine not reachable at ${socket}`, 'm'),
      );
      expect(result.stdout).toContain('fix: start the Docker engine: bash infra/setup.sh, or `dockerd &`');
      expect(result.stdout).toMatch(/^ok\s+redis\s/m);
      expect(result.stdout).toMatch(/^skip\s+default image\s/m);
      expect(result.stdout).toMatch(/1 check\(s\) failed\n$/);

      const json = await runCli(['doctor', '--json'], { env });
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as {
        ok: boolean;
        checks: { name: string; status: string; fix?: string }[];
      };
      expect(report.ok).toBe(false);
      expect(report.checks.find((check) => check.name === 'docker')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('systemctl start docker'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('doctor fails on a Redis that keeps nothing on disk and may evict, with the fix, and exits 1', async () => {
    const redis = await startRedisServer(['--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru']);
    try {
      const result = await runCli(['doctor'], {
        env: { ...fleet.workerEnv(), SANDFLEET_REDIS_URL: redis.url },
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^ok\s+redis\s/m);
      expect(result.stdout).toMatch(
        /^FAIL\s+redis durability\s+append-only file off.*maxmemory-policy allkeys-lru/m,
      );
      expect(result.stdout).toContain(
        '--appendonly yes --appendfsync everysec --maxmemory-policy noeviction',
      );
    } finally {
      await redis.close();
    }
  });

  it('doctor passes every check on the healthy setup, the API included, and exits 0', async () => {
    const env = { ...fleet.workerEnv(), SANDFLEET_API_URL: api.url, SANDFLEET_API_TOKEN: token };
    const result = await runCli(['doctor', '--json'], { env });
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
    expect(report.checks.filter((check) => check.status !== 'ok')).toEqual([]);
    expect(report.checks.map((check) => check.name)).toEqual([
      'node',
      'configuration',
      'docker',
      'redis',
      'redis durability',
      'postgres',
      'migrations',
      'default image',
      'agent-runtime image',
      'api',
    ]);
    expect(report.ok).toBe(true);
    expect(result.code).toBe(0);
    const text = await runCli(['doctor'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ok\s+api\s+.*token accepted$/m);
    expect(text.stdout).toMatch(/all checks passed\n$/);
  });

  it('up serves the API and runs steps in one process with one set of metrics; SIGTERM stops it with 0', async () => {
    const upToken = testToken();
    // Its own queue, so its steps can only run on its own worker.
    extraQueues.push('steps-up');
    const env = fleet.workerEnv({
      SANDFLEET_QUEUE_NAME: 'steps-up',
      SANDFLEET_API_HOST: '127.0.0.1',
      SANDFLEET_API_PORT: '0',
      SANDFLEET_API_TOKENS: upToken,
    });
    const up = track(spawnCli(['up'], { env, timeoutMs: 60_000 }));
    const url = await fleet.until(
      'up to listen',
      async () => up.stderr.match(/sandfleet up: API on (http:\/\/127\.0\.0\.1:\d+)/)?.[1],
      20_000,
    );
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { redis: 'ok', postgres: 'ok' } });

    const id = fleet.stepId();
    const run = await runCli(['run', '--id', id, '--', 'echo', 'up'], {
      env: { ...apiEnv, SANDFLEET_API_URL: url, SANDFLEET_API_TOKEN: upToken },
    });
    expect(run).toMatchObject({ code: 0, stdout: 'up\n' });
    expect((await fleet.db.steps.get(id))?.workerId).toBe(env.SANDFLEET_WORKER_ID);

    const metrics = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${upToken}` } })
    ).text();
    // The worker's and the API's metrics in one scrape.
    expect(metrics).toMatch(/^sandfleet_steps_finished_total\{status="succeeded"\} 1$/m);
    expect(metrics).toMatch(/^sandfleet_http_requests_total\{.*route="\/v1\/steps".*\} \d+$/m);
    expect(metrics.match(/^# TYPE process_cpu_seconds_total /gm)).toHaveLength(1);

    up.child.kill('SIGTERM');
    const result = await up.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(upToken);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
