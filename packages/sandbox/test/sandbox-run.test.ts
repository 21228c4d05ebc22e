import { LABELS } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDockerSandbox, isSandboxError, type SandboxRunHooks } from '../src/index.js';
import { docker, recordOutput, TestBed } from './support.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.cleanUp();
});

describe('run', () => {
  it('delivers stdout and stderr tagged with their stream', async () => {
    const output = recordOutput();
    const result = await bed.sandbox.run(
      bed.request({ argv: ['sh', '-c', 'echo to-out; echo to-err >&2'] }),
      output.hooks,
    );
    expect(output.text('stdout')).toBe('to-out\n');
    expect(output.text('stderr')).toBe('to-err\n');
    expect(result.exitCode).toBe(0);
    expect(result.stopReason).toBeUndefined();
    expect(result.outputIncomplete).toBeUndefined();
    expect(result.oomKilled).toBe(false);
  });

  it('propagates the exit code of the command', async () => {
    const result = await bed.sandbox.run(
      bed.request({ argv: ['sh', '-c', 'exit 42'] }),
      recordOutput().hooks,
    );
    expect(result.exitCode).toBe(42);
    expect(result.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(result.imageId).toMatch(/^sha256:/);
  });

  it('resolves with the outcome first, then removes the container; close waits for that removal', async () => {
    const result = await bed.sandbox.run(bed.request({ argv: ['true'] }), recordOutput().hooks);
    const { destroyMs } = await result.removed;
    expect(destroyMs).toBeGreaterThanOrEqual(0);
    await expect(docker.getContainer(result.containerId).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });

    const sandbox = bed.newSandbox();
    const next = await sandbox.run(bed.request({ argv: ['true'] }), recordOutput().hooks);
    await sandbox.close();
    await expect(docker.getContainer(next.containerId).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('delivers 10,000 lines complete and in order', async () => {
    const output = recordOutput();
    await bed.sandbox.run(bed.request({ argv: ['seq', '1', '10000'] }), output.hooks);
    const lines = output.text('stdout').trimEnd().split('\n');
    expect(lines).toEqual(Array.from({ length: 10_000 }, (_, i) => String(i + 1)));
  });

  it('never calls onOutput again before the previous call finished', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let text = '';
    const hooks: SandboxRunHooks = {
      onOutput: async (_stream, chunk) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        text += chunk.toString();
        inFlight--;
      },
    };
    await bed.sandbox.run(bed.request({ argv: ['seq', '1', '30000'] }), hooks);
    expect(maxInFlight).toBe(1);
    expect(text.trimEnd().split('\n')).toEqual(Array.from({ length: 30_000 }, (_, i) => String(i + 1)));
  });

  it('injects files with nested paths and modes, and the input as file and variables', async () => {
    const input = 'hello input';
    const script = [
      'cat persona/soul.md; echo',
      'cat deep/a/b/c.bin',
      'stat -c "%a %u:%g" deep/a/b/c.bin deep/a persona/soul.md',
      'cat "$SANDFLEET_INPUT_FILE"; echo',
      'echo "env=$SANDFLEET_INPUT"',
      'stat -c "%a %u" /sandfleet/input',
    ].join('; ');
    const output = recordOutput();
    const result = await bed.sandbox.run(
      bed.request({
        argv: ['sh', '-c', script],
        files: [
          { path: 'persona/soul.md', content: 'be kind', encoding: 'utf8' },
          {
            path: 'deep/a/b/c.bin',
            content: Buffer.from('binary!\n').toString('base64'),
            encoding: 'base64',
            mode: 0o600,
          },
        ],
        input,
      }),
      output.hooks,
    );
    expect(output.text('stderr')).toBe('');
    expect(output.text('stdout').split('\n')).toEqual([
      'be kind',
      'binary!',
      '600 1000:1000',
      '755 1000:1000',
      '644 1000:1000',
      input,
      `env=${input}`,
      '444 1000',
      '',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('writes runtime files read-only under /sandfleet, outside the home', async () => {
    const output = recordOutput();
    const result = await bed.sandbox.run(
      bed.request({
        argv: [
          'sh',
          '-c',
          'cat /sandfleet/chat-history.json; echo; stat -c "%a %u" /sandfleet/chat-history.json',
        ],
        runtimeFiles: [{ name: 'chat-history.json', content: '[{"role":"user"}]' }],
      }),
      output.hooks,
    );
    expect(output.text('stdout')).toBe('[{"role":"user"}]\n444 1000\n');
    expect(result.exitCode).toBe(0);
  });

  it('uploads nothing into a container when the step brings nothing it can read', async () => {
    // The engine reports every archive written into a container as an `extract-to-dir` event.
    const uploads = async (containerId: string, since: number): Promise<number> => {
      const stream = await docker.getEvents({
        since,
        until: Math.ceil(Date.now() / 1000),
        filters: { type: ['container'], event: ['extract-to-dir'], container: [containerId] },
      });
      let count = 0;
      for await (const line of stream as AsyncIterable<Buffer>)
        count += line.toString().trim().split('\n').length;
      return count;
    };
    const since = Math.floor(Date.now() / 1000) - 1;
    // A private runtime file is for the agent runtime alone: this image never gets it.
    const bare = await bed.sandbox.run(
      bed.request({ argv: ['true'], runtimeFiles: [{ name: 'event-token', content: 'x', private: true }] }),
      recordOutput().hooks,
    );
    const withFile = await bed.sandbox.run(
      bed.request({ argv: ['true'], files: [{ path: 'note.txt', content: 'hi', encoding: 'utf8' }] }),
      recordOutput().hooks,
    );
    expect(await uploads(bare.containerId, since)).toBe(0);
    expect(await uploads(withFile.containerId, since)).toBe(1);
  });

  it('refuses a runtime file name that is a path or the input before any container exists', async () => {
    for (const name of ['../x', 'input', 'a/b']) {
      const error = await bed.sandbox
        .run(bed.request({ argv: ['true'], runtimeFiles: [{ name, content: '' }] }), recordOutput().hooks)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_REQUEST' });
    }
  });

  it('passes an input over 64 KiB as a file only', async () => {
    const input = 'x'.repeat(70 * 1024);
    const output = recordOutput();
    await bed.sandbox.run(
      bed.request({
        argv: ['sh', '-c', 'printf %s "$SANDFLEET_INPUT" | wc -c; wc -c < "$SANDFLEET_INPUT_FILE"'],
        input,
      }),
      output.hooks,
    );
    expect(output.text('stdout').trim().split(/\s+/)).toEqual(['0', String(input.length)]);
  });

  it.each([
    ['a parent segment', '../outside.txt'],
    ['an absolute path', '/etc/passwd'],
    ['a nested parent segment', 'persona/../../x'],
  ])('rejects a file path with %s before any container is created', async (_what, path) => {
    const run = bed.sandbox.run(
      bed.request({ files: [{ path, content: 'x', encoding: 'utf8' }] }),
      recordOutput().hooks,
    );
    await expect(run).rejects.toSatisfy(
      (error) => isSandboxError(error, 'INVALID_REQUEST') && !error.retryable,
    );
    expect(await bed.containersCreated()).toBe(0);
  });

  it('fails with a retryable IMAGE_NOT_FOUND before any container when the image is missing', async () => {
    const run = bed.sandbox.run(
      bed.request({ image: 'sandfleet/no-such-image:latest' }),
      recordOutput().hooks,
    );
    await expect(run).rejects.toSatisfy(
      (error) => isSandboxError(error, 'IMAGE_NOT_FOUND') && error.retryable,
    );
    expect(await bed.containersCreated()).toBe(0);
  });

  it('waits for an unreachable engine, then reports a retryable DOCKER_UNAVAILABLE', async () => {
    const sandbox = createDockerSandbox({
      socketPath: `/tmp/no-docker-${bed.id}.sock`,
      daemonReturnMs: 1500,
    });
    try {
      await expect(sandbox.ping()).rejects.toSatisfy((error) => isSandboxError(error, 'DOCKER_UNAVAILABLE'));
      const started = performance.now();
      await expect(sandbox.run(bed.request(), recordOutput().hooks)).rejects.toSatisfy(
        (error) => isSandboxError(error, 'DOCKER_UNAVAILABLE') && error.retryable,
      );
      // A step arriving while the engine restarts waits for it rather than failing at once.
      expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
    } finally {
      await sandbox.close();
    }
  });

  it('applies the security profile, limits, labels and the image user', async () => {
    let inspection: Promise<Docker.ContainerInspectInfo> | undefined;
    const output = recordOutput({
      onStarted: ({ containerId }) => {
        inspection = docker.getContainer(containerId).inspect();
      },
    });
    const request = bed.request({
      argv: ['sh', '-c', 'grep -E "^(CapEff|CapPrm|NoNewPrivs)" /proc/self/status; id -u'],
      limits: { timeoutMs: 20_000, memoryMb: 48, cpus: 0.5, pids: 40 },
      labels: { team: 'blue', [LABELS.workerId]: 'forged' },
      attempt: 2,
    });
    await bed.sandbox.run(request, output.hooks);
    const info = await inspection;
    expect(info).toBeDefined();
    const host = info?.HostConfig;
    expect(host?.CapDrop).toEqual(['ALL']);
    expect(host?.CapAdd ?? []).toEqual([]);
    expect(host?.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host?.Privileged).toBe(false);
    expect(host?.Binds ?? []).toEqual([]);
    expect(info?.Mounts.map((m) => [m.Type, m.Destination])).toEqual(
      expect.arrayContaining([
        ['volume', '/home/agent'],
        ['volume', '/home/agent/vault/shared'],
      ]),
    );
    expect(info?.Mounts.every((m) => m.Type === 'volume')).toBe(true);
    expect(host?.Memory).toBe(48 * 1024 * 1024);
    expect(host?.MemorySwap).toBe(48 * 1024 * 1024);
    expect(host?.NanoCpus).toBe(500_000_000);
    expect(host?.PidsLimit).toBe(40);
    expect(host?.NetworkMode).toBe('none');
    expect(host?.AutoRemove).toBe(false);
    expect(info?.Config.User).toBe('1000:1000');
    expect(info?.Config.Tty).toBe(false);
    expect(info?.Config.OpenStdin).toBe(false);
    expect(info?.Name).toMatch(new RegExp(`^/sandfleet-${request.stepId}-2-[0-9a-f]{4}$`));
    expect(info?.Config.Labels).toMatchObject({
      [LABELS.managed]: 'true',
      [LABELS.stepId]: request.stepId,
      [LABELS.agentId]: request.agentId,
      [LABELS.workerId]: bed.workerId,
      [LABELS.attempt]: '2',
      team: 'blue',
    });
    expect(output.text('stdout').split('\n')).toEqual([
      'CapPrm:\t0000000000000000',
      'CapEff:\t0000000000000000',
      'NoNewPrivs:\t1',
      '1000',
      '',
    ]);
  });

  it('removes the container and rejects with the hook error when onOutput throws', async () => {
    const boom = new Error('hook failed');
    const started = Date.now();
    const run = bed.sandbox.run(bed.request({ argv: ['sh', '-c', 'echo up; sleep 60'] }), {
      onOutput: () => {
        throw boom;
      },
    });
    await expect(run).rejects.toBe(boom);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await bed.sandbox.listContainers({ workerId: bed.workerId })).toEqual([]);
  });

  it('removes the container and rejects with the hook error when onStarted throws', async () => {
    const boom = new Error('onStarted failed');
    const run = bed.sandbox.run(bed.request({ argv: ['sleep', '60'] }), {
      onOutput: () => undefined,
      onStarted: () => {
        throw boom;
      },
    });
    await expect(run).rejects.toBe(boom);
    expect(await bed.sandbox.listContainers({ workerId: bed.workerId })).toEqual([]);
  });

  it('removes the container when injecting files fails', async () => {
    // `deep` is a file in the agent's home; a later step may not turn it into a directory.
    const agentId = bed.agentId();
    await bed.sandbox.run(
      bed.request({ agentId, files: [{ path: 'deep', content: 'file', encoding: 'utf8' }] }),
      recordOutput().hooks,
    );
    const run = bed.sandbox.run(
      bed.request({ agentId, files: [{ path: 'deep/inner.txt', content: 'x', encoding: 'utf8' }] }),
      recordOutput().hooks,
    );
    await expect(run).rejects.toSatisfy(
      (error) => isSandboxError(error, 'INJECT_FAILED') && !error.retryable,
    );
    expect(await bed.containersCreated()).toBe(2);
  });

  it('refuses new runs once closed', async () => {
    await bed.sandbox.close();
    await expect(bed.sandbox.run(bed.request(), recordOutput().hooks)).rejects.toSatisfy((error) =>
      isSandboxError(error, 'CLOSED'),
    );
  });
});
