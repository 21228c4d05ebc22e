import { LABELS, RUNTIME_GATE_ARG } from '@sandfleet/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxRunRequest } from '../src/index.js';
import { docker, firstOutput, recordOutput, TEST_IMAGE, TestBed } from './support.js';

// The agent-runtime image: only it has the gate a warm container waits at.
const RUNTIME_IMAGE = process.env.SANDFLEET_AGENT_IMAGE_TAG || 'sandfleet/agent-runtime:minimal';
const WARM_LABEL = 'sandfleet.warm';

/** The warm containers of a test's worker on the engine, as an operator would list them. */
async function warmContainers(bed: TestBed, agentId?: string) {
  const label = [`${LABELS.workerId}=${bed.workerId}`, WARM_LABEL];
  if (agentId !== undefined) label.push(`${LABELS.agentId}=${agentId}`);
  return docker.listContainers({ all: true, filters: { label } });
}

/** Waits until the worker has a warm container for the agent (made in the background). */
async function warmed(bed: TestBed, agentId: string) {
  for (let i = 0; i < 100; i++) {
    const [warm] = await warmContainers(bed, agentId);
    if (warm?.State === 'running') return warm;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no warm container for ${agentId}`);
}

describe('warm pool', () => {
  let bed: TestBed;
  afterEach(async () => {
    await bed.cleanUp();
  });

  const runtimeRequest = (overrides: Partial<SandboxRunRequest>) =>
    bed.request({
      image: RUNTIME_IMAGE,
      limits: { timeoutMs: 20_000, memoryMb: 256, cpus: 1, pids: 128 },
      ...overrides,
    });

  it("runs an agent's next step in the container warmed after its last, and the step's secret reaches only the step", async () => {
    bed = new TestBed({ warmPoolSize: 2 });
    const agentId = bed.agentId();
    const first = await bed.sandbox.run(runtimeRequest({ agentId, argv: ['true'] }), recordOutput().hooks);
    expect(first.warm).toEqual({ hit: false, cause: 'none' });
    const warm = await warmed(bed, agentId);
    // What a warm container holds before any step is given to it: the gate, and nothing of a step.
    const before = await docker.getContainer(warm.Id).inspect();
    expect(before.Config.Cmd).toEqual([RUNTIME_GATE_ARG]);
    expect(before.Config.Labels[LABELS.stepId]).toBeUndefined();
    expect(before.Config.Env.join('\n')).not.toMatch(/SANDFLEET_STEP|SECRET/);

    const secret = `s3cr3t-${bed.id}`;
    const output = recordOutput();
    const stepId = `step-${bed.id}-2`;
    const second = await bed.sandbox.run(
      runtimeRequest({
        agentId,
        stepId,
        runtimeEnv: { SANDFLEET_STEP_ID: stepId, SANDFLEET_EVENT_TOKEN_FILE: '/sandfleet/event-token' },
        runtimeFiles: [{ name: 'event-token', content: `token-${bed.id}`, private: true }],
        env: { TOKEN: secret },
        input: 'the input',
        files: [{ path: 'notes/hello.txt', content: 'hi', encoding: 'utf8' }],
        // The step, as an attacker: what its environment, its files and the container's pid 1 give away.
        argv: [
          'sh',
          '-c',
          'echo "token=$TOKEN input=$(cat "$SANDFLEET_INPUT_FILE") file=$(cat ~/notes/hello.txt) step=$SANDFLEET_STEP_ID uid=$(id -u)"; ' +
            'cat /proc/1/environ 2>&1 | tr "\\0" "\\n" | grep -c TOKEN; ls /sandfleet',
        ],
      }),
      output.hooks,
    );
    expect(second.warm).toEqual({ hit: true });
    expect(second.containerId).toBe(warm.Id);
    expect(second.exitCode).toBe(0);
    const [line, environCount, ...runtimeDir] = output.text('stdout').trim().split('\n');
    expect(line).toBe(`token=${secret} input=the input file=hi step=${stepId} uid=1000`);
    // The runtime's own environment (pid 1 is the init, the runtime its child) never had the secret.
    expect(environCount).toMatch(/^0$|Permission denied/);
    // The event token and the step's environment were taken before the step ran.
    expect(runtimeDir).not.toContain('event-token');
    expect(runtimeDir).not.toContain('step-env.json');
    // The engine never saw the secret in the container's configuration either.
    expect(JSON.stringify((await warmContainers(bed)).map((c) => c.Labels))).not.toContain(secret);
  }, 60_000);

  it("never serves one agent's step in another agent's warm container", async () => {
    bed = new TestBed({ warmPoolSize: 4 });
    const alice = bed.agentId('alice');
    const mallory = bed.agentId('mallory');
    expect(await bed.sandbox.warm(runtimeRequest({ agentId: alice }))).toBe('warmed');
    const aliceWarm = await warmed(bed, alice);
    // Alice's next step leaves a file in her home; Mallory looks for it from her own step.
    const output = recordOutput();
    const run = await bed.sandbox.run(
      runtimeRequest({
        agentId: mallory,
        argv: ['sh', '-c', 'ls -A ~; cat /proc/self/cgroup | head -1; hostname'],
      }),
      output.hooks,
    );
    expect(run.warm).toEqual({ hit: false, cause: 'none' });
    expect(run.containerId).not.toBe(aliceWarm.Id);
    expect(output.text('stdout')).not.toContain(aliceWarm.Id.slice(0, 12));
    // Alice's warm container is still hers, waiting, and serves her next step.
    const [still] = await warmContainers(bed, alice);
    expect(still?.Id).toBe(aliceWarm.Id);
    const hers = await bed.sandbox.run(
      runtimeRequest({ agentId: alice, argv: ['true'] }),
      recordOutput().hooks,
    );
    expect(hers).toMatchObject({ warm: { hit: true }, containerId: aliceWarm.Id, exitCode: 0 });
  }, 60_000);

  it('runs cold when the step asks for other limits or another image, then warms for the new limits', async () => {
    bed = new TestBed({ warmPoolSize: 2 });
    const agentId = bed.agentId();
    await bed.sandbox.warm(runtimeRequest({ agentId }));
    const warm = await warmed(bed, agentId);
    const limits = { timeoutMs: 20_000, memoryMb: 512, cpus: 1, pids: 128 };
    const bigger = await bed.sandbox.run(runtimeRequest({ agentId, limits }), recordOutput().hooks);
    expect(bigger.warm).toEqual({ hit: false, cause: 'limits' });
    expect(bigger.containerId).not.toBe(warm.Id);
    // The agent's latest settings are what its next step is expected to ask: the old one is replaced.
    const replaced = await warmed(bed, agentId);
    expect(replaced.Id).not.toBe(warm.Id);
    expect((await docker.getContainer(replaced.Id).inspect()).HostConfig.Memory).toBe(512 * 1024 * 1024);
    const otherImage = await bed.sandbox.run(bed.request({ agentId }), recordOutput().hooks);
    expect(otherImage.warm).toEqual({ hit: false, cause: 'not-runtime' });
    // The timeout is the run's own (its timer starts at the gate): no mismatch.
    const shorter = await bed.sandbox.run(
      runtimeRequest({ agentId, limits: { ...limits, timeoutMs: 5000 } }),
      recordOutput().hooks,
    );
    expect(shorter).toMatchObject({ warm: { hit: true }, containerId: replaced.Id, exitCode: 0 });
  }, 60_000);

  it('cancels a step running in a warm container, and removes it', async () => {
    bed = new TestBed({ warmPoolSize: 1 });
    const agentId = bed.agentId();
    await bed.sandbox.warm(runtimeRequest({ agentId }));
    await warmed(bed, agentId);
    const controller = new AbortController();
    const started = firstOutput();
    const running = bed.sandbox.run(
      runtimeRequest({ agentId, argv: ['sh', '-c', 'echo started; sleep 30'], stopGraceMs: 500 }),
      { ...started.hooks, signal: controller.signal },
    );
    await started.seen;
    controller.abort('cancel');
    const result = await running;
    expect(result).toMatchObject({ warm: { hit: true }, stopReason: 'cancel' });
    await result.removed;
    await expect(docker.getContainer(result.containerId).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  }, 60_000);

  it('removes a warm container left unused past its idle time, and every one on close', async () => {
    bed = new TestBed({ warmPoolSize: 3, warmIdleTtlMs: 1000 });
    const idle = bed.agentId('idle');
    await bed.sandbox.warm(runtimeRequest({ agentId: idle }));
    expect(await warmContainers(bed, idle)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await warmContainers(bed, idle)).toHaveLength(0);

    const kept = bed.newSandbox({ warmPoolSize: 3 });
    const agents = [bed.agentId('a'), bed.agentId('b')];
    for (const agentId of agents) expect(await kept.warm(runtimeRequest({ agentId }))).toBe('warmed');
    expect(await kept.warm(runtimeRequest({ agentId: agents[0] }))).toBe('present');
    expect(await warmContainers(bed)).toHaveLength(2);
    await kept.close();
    expect(await warmContainers(bed)).toHaveLength(0);
    expect(await kept.warm(runtimeRequest({ agentId: agents[0] }))).toBe('closed');
  }, 60_000);

  it('keeps at most its size, evicting the least recently warmed', async () => {
    bed = new TestBed({ warmPoolSize: 2 });
    const [a, b, c] = [bed.agentId('a'), bed.agentId('b'), bed.agentId('c')];
    for (const agentId of [a, b, c]) await bed.sandbox.warm(runtimeRequest({ agentId }));
    const left = (await warmContainers(bed)).map((container) => container.Labels[LABELS.agentId]).sort();
    expect(left).toEqual([b, c].sort());
  }, 60_000);

  it('says why it warms nothing: no pool, not the runtime image, an egress step', async () => {
    bed = new TestBed({ warmPoolSize: 1 });
    const agentId = bed.agentId();
    expect(await bed.sandbox.warm(bed.request({ agentId, image: TEST_IMAGE }))).toBe('not-runtime');
    expect(await bed.sandbox.warm(runtimeRequest({ agentId, network: 'egress' }))).toBe('network');
    expect(
      await bed.sandbox.warm(runtimeRequest({ agentId, image: `sandfleet/missing-${bed.id}:latest` })),
    ).toBe('failed');
    expect(await bed.newSandbox().warm(runtimeRequest({ agentId }))).toBe('off');
    expect(await warmContainers(bed)).toHaveLength(0);
  }, 60_000);

  it("keeps warm containers through its worker's stray sweep, and runs cold past one that died", async () => {
    bed = new TestBed({ warmPoolSize: 2 });
    const agentId = bed.agentId();
    await bed.sandbox.warm(runtimeRequest({ agentId }));
    const warm = await warmed(bed, agentId);
    const removed = await bed.sandbox.reapOrphans({
      selfWorkerId: bed.workerId,
      isWorkerAlive: async () => true,
    });
    expect(removed).not.toContain(warm.Id);
    // Something outside kills it while it waits (an engine restart, an operator).
    await docker.getContainer(warm.Id).kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const output = recordOutput();
    const run = await bed.sandbox.run(runtimeRequest({ agentId, argv: ['echo', 'cold'] }), output.hooks);
    expect(run).toMatchObject({ warm: { hit: false, cause: 'lost' }, exitCode: 0 });
    expect(output.text('stdout')).toBe('cold\n');
    await expect(docker.getContainer(warm.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);

  it("is removed by another worker's reaper once its own worker is dead, like any container", async () => {
    bed = new TestBed({ warmPoolSize: 1 });
    const agentId = bed.agentId();
    await bed.sandbox.warm(runtimeRequest({ agentId }));
    const warm = await warmed(bed, agentId);
    const other = bed.newSandbox();
    const removed = await other.reapOrphans({
      selfWorkerId: bed.otherWorkerId('reaper'),
      isWorkerAlive: async (workerId) => workerId !== bed.workerId,
    });
    expect(removed).toContain(warm.Id);
    await expect(docker.getContainer(warm.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // Its pool then finds it gone: the agent's next step runs cold.
    const run = await bed.sandbox.run(runtimeRequest({ agentId, argv: ['true'] }), recordOutput().hooks);
    expect(run).toMatchObject({ warm: { hit: false, cause: 'lost' }, exitCode: 0 });
  }, 60_000);
});
