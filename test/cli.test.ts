import { randomBytes } from 'node:crypto';
import type { StepEvent } from '@sandfleet/contracts';
import { createDatabase } from '@sandfleet/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, cliEnvFrom, runCli, spawnCli } from './support/cli-process.js';
import { TestFleet } from './support/test-fleet.js';

const SECRET = `cli-${randomBytes(8).toString('hex')}`;

describe('sandfleet CLI', () => {
  let fleet: TestFleet;
  let env: Record<string, string>;
  const spawned: CliProcess[] = [];
  /** Steps enqueued with a generated id, whose event keys `fleet.close()` does not know. */
  const generatedIds: string[] = [];

  const sandfleet = (...args: string[]) => runCli(args, { env });
  const follow = (...args: string[]) => {
    const cli = spawnCli(args, { env });
    spawned.push(cli);
    return cli;
  };

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '4' }, { CLI_TOKEN: SECRET });
    env = { ...cliEnvFrom(fleet.workerEnv()), SANDFLEET_AGENT_ID: fleet.agentId() };
  });

  afterEach(async () => {
    for (const cli of spawned.splice(0)) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    if (fleet && generatedIds.length > 0) await fleet.redis.del(...generatedIds.map(fleet.names.events));
    try {
      // fleet.close() leaves agent home volumes; every step has ended (afterEach), so none is in use.
      if (env?.SANDFLEET_AGENT_ID) await fleet?.sandbox.removeAgentHome(env.SANDFLEET_AGENT_ID);
    } finally {
      await fleet?.close();
    }
  });

  it('runs `run -- echo hello`, printing hello and exiting 0', async () => {
    const id = fleet.stepId();
    const result = await sandfleet('run', '--id', id, '--', 'echo', 'hello');
    expect(result).toMatchObject({ code: 0, stdout: 'hello\n', stderr: '' });
    expect(await fleet.db.steps.get(id)).toMatchObject({
      status: 'succeeded',
      agentId: env.SANDFLEET_AGENT_ID,
    });
  });

  it("exits with the step's own exit code", async () => {
    const result = await sandfleet('run', '--id', fleet.stepId(), '--', 'sh', '-c', 'exit 7');
    expect(result.code).toBe(7);
  });

  it('exits 124 and says so on stderr when the step times out', async () => {
    const id = fleet.stepId();
    const result = await sandfleet('run', '--id', id, '--timeout', '500', '--', 'sleep', '30');
    expect(result.code).toBe(124);
    expect(result.stderr).toMatch(/timed out/);
    expect(result.ms).toBeLessThan(15_000);
    expect((await fleet.db.steps.get(id))?.status).toBe('timed_out');
  });

  it('prints just the step id with --detach; status --json shows its row and logs prints its output', async () => {
    const detached = await sandfleet('run', '--detach', '--', 'echo', 'x');
    expect(detached.code).toBe(0);
    expect(detached.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const id = detached.stdout.trim();
    generatedIds.push(id);
    await fleet.terminal(id);
    const status = await sandfleet('status', id, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      id,
      agentId: env.SANDFLEET_AGENT_ID,
      status: 'succeeded',
      exitCode: 0,
      attempts: 1,
      output: 'x\n',
    });
    expect(await sandfleet('logs', id)).toMatchObject({ code: 0, stdout: 'x\n' });
  });

  it("follows a running step with logs -f until it ends and exits with the step's exit code", async () => {
    const id = fleet.stepId();
    await sandfleet('run', '--detach', '--id', id, '--script', 'echo begin; sleep 5; echo end; exit 3');
    await fleet.until('the step to run', async () => (await fleet.db.steps.get(id))?.status === 'running');
    const logs = follow('logs', '-f', id);
    await fleet.until('logs -f to print the first line', async () => logs.stdout.includes('begin\n'));
    expect(logs.stdout).toBe('begin\n');
    expect((await fleet.db.steps.get(id))?.status).toBe('running');
    const result = await logs.exited;
    expect(result).toMatchObject({ code: 3, stdout: 'begin\nend\n' });
  });

  it('cancels a running sleep 30: status shows cancelled and a concurrent logs -f exits 130', async () => {
    const id = fleet.stepId();
    await sandfleet('run', '--detach', '--id', id, '--', 'sleep', '30');
    const logs = follow('logs', '-f', '--json', id);
    // The running status event on its stdout shows it is following before the cancel is sent.
    await fleet.until('logs -f to see the step running', async () =>
      logs.stdout.includes('"status":"running"'),
    );
    const cancel = await sandfleet('cancel', id);
    expect(cancel.code).toBe(0);
    const followed = await logs.exited;
    expect(followed.code).toBe(130);
    const events = followed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as StepEvent);
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'cancelled' });
    const status = await sandfleet('status', id);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^status\s+cancelled$/m);
  });

  it('exits 2 naming agentId when the agent id is invalid, and enqueues nothing', async () => {
    const id = fleet.stepId();
    const result = await sandfleet('run', '--id', id, '--agent', 'Bad Agent', '--', 'true');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('agentId');
    expect(await fleet.db.steps.get(id)).toBeUndefined();
  });

  it('builds the agent-runtime image with `image build`, skipping a current one', async () => {
    const result = await sandfleet('image', 'build', '--toolbox', 'minimal');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('sandfleet/agent-runtime:minimal');
  });

  it.each([
    [['run', '--env', 'foo', '--', 'true'], '--env takes KEY=VALUE'],
    [['run', '--timeout', '0', '--', 'true'], '--timeout'],
    [['run'], 'nothing to run'],
    [['no-such-command'], 'unknown command'],
  ])('exits 2 on the usage error of %j', async (args, message) => {
    const result = await sandfleet(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('exits 2 naming files.0.path when a file would escape the home', async () => {
    const id = fleet.stepId();
    const result = await sandfleet('run', '--id', id, '--file', '../x=/etc/hostname', '--', 'true');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('files.0.path');
    expect(await fleet.db.steps.get(id)).toBeUndefined();
  });

  it('exits 1 for the status of an unknown step', async () => {
    const result = await sandfleet('status', fleet.stepId());
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
  });

  it('migrates a fresh schema once, then says it is up to date', async () => {
    const schema = `${fleet.schema}_m`;
    const migrateEnv = { ...env, SANDFLEET_DATABASE_SCHEMA: schema };
    try {
      const first = await runCli(['migrate'], { env: migrateEnv });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^applied \d+ migration/);
      const second = await runCli(['migrate'], { env: migrateEnv });
      expect(second).toMatchObject({ code: 0, stdout: 'database schema is up to date\n' });
    } finally {
      const db = createDatabase({ connectionString: env.SANDFLEET_DATABASE_URL as string, schema });
      await db.dropSchema();
      await db.close();
    }
  });

  it('passes --env variables to a --script step', async () => {
    const result = await sandfleet('run', '--id', fleet.stepId(), '--env', 'A=1', '--script', 'echo $A');
    expect(result).toMatchObject({ code: 0, stdout: '1\n' });
  });

  it("injects a --secret from the worker's secrets and prints *** instead of its value", async () => {
    const result = await sandfleet(
      'run',
      '--id',
      fleet.stepId(),
      '--secret',
      'CLI_TOKEN',
      '--script',
      'echo $CLI_TOKEN',
    );
    expect(result).toMatchObject({ code: 0, stdout: '***\n' });
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });
});
