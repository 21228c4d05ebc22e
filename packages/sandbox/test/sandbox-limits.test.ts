import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSandboxError } from '../src/index.js';
import { firstOutput, recordOutput, TestBed } from './support.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.cleanUp();
});

describe('limits and stopping', () => {
  it('kills a container that runs past its timeout, with stopReason timeout', async () => {
    const started = Date.now();
    const result = await bed.sandbox.run(
      bed.request({ argv: ['sleep', '60'], limits: { timeoutMs: 1000, memoryMb: 64, cpus: 1, pids: 64 } }),
      recordOutput().hooks,
    );
    expect(result.stopReason).toBe('timeout');
    expect(result.exitCode).toBe(137);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('stops a container when the signal aborts with cancel, well within the grace', async () => {
    const controller = new AbortController();
    const { hooks, seen } = firstOutput();
    const run = bed.sandbox.run(
      bed.request({ argv: ['sh', '-c', 'echo up; exec sleep 60'], stopGraceMs: 5000 }),
      {
        ...hooks,
        signal: controller.signal,
      },
    );
    await seen;
    const abortedAt = Date.now();
    controller.abort('cancel');
    const result = await run;
    expect(result.stopReason).toBe('cancel');
    // SIGTERM reached the command: it ended by that signal, not by SIGKILL after the grace.
    expect(result.exitCode).toBe(143);
    expect(Date.now() - abortedAt).toBeLessThan(5000);
  });

  it('sends SIGKILL after the grace when the command ignores SIGTERM', async () => {
    const controller = new AbortController();
    const { hooks, seen } = firstOutput();
    const run = bed.sandbox.run(
      bed.request({
        argv: ['sh', '-c', 'trap "" TERM; echo up; while true; do sleep 1; done'],
        stopGraceMs: 1000,
      }),
      { ...hooks, signal: controller.signal },
    );
    await seen;
    const abortedAt = Date.now();
    controller.abort('cancel');
    const result = await run;
    const elapsed = Date.now() - abortedAt;
    expect(result.stopReason).toBe('cancel');
    expect(result.exitCode).toBe(137);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(6000);
  });

  it('stops running containers with stopReason shutdown when the sandbox closes', async () => {
    const { hooks, seen } = firstOutput();
    const run = bed.sandbox.run(bed.request({ argv: ['sh', '-c', 'echo up; exec sleep 60'] }), hooks);
    await seen;
    await bed.sandbox.close();
    const result = await run;
    expect(result.stopReason).toBe('shutdown');
  });

  it('rejects with ABORTED and creates nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort('shutdown');
    const run = bed.sandbox.run(bed.request(), { ...recordOutput().hooks, signal: controller.signal });
    await expect(run).rejects.toSatisfy((error) => isSandboxError(error, 'ABORTED') && error.retryable);
    expect(await bed.containersCreated()).toBe(0);
  });

  it('reports oomKilled when the command exceeds the memory limit', async () => {
    const result = await bed.sandbox.run(
      bed.request({
        argv: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=200M', 'count=1'],
        limits: { timeoutMs: 30_000, memoryMb: 32, cpus: 1, pids: 64 },
      }),
      recordOutput().hooks,
    );
    expect(result.oomKilled).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.stopReason).toBeUndefined();
  });

  it('contains a fork bomb under the pids limit and still ends the container', async () => {
    const started = Date.now();
    const output = recordOutput();
    const result = await bed.sandbox.run(
      bed.request({
        argv: ['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 30'],
        limits: { timeoutMs: 3000, memoryMb: 64, cpus: 0.5, pids: 32 },
      }),
      output.hooks,
    );
    expect(result.stopReason === 'timeout' || result.exitCode !== null).toBe(true);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(output.text('stderr')).toMatch(/can't fork|Resource temporarily unavailable/);
  });
});
