import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildImage, isSandboxError, SandboxError } from '../src/index.js';
import { docker } from './support.js';

const BASE = 'sandfleet/busybox:latest';
const tags: string[] = [];
const dirs: string[] = [];

/** A build context holding one Dockerfile, and a fresh tag; both are removed after the test. */
async function context(dockerfile: string, name = 'Dockerfile'): Promise<{ dir: string; tag: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sandfleet-build-'));
  dirs.push(dir);
  await writeFile(join(dir, name), dockerfile);
  const tag = `sandfleet-test/build-${randomBytes(4).toString('hex')}:latest`;
  tags.push(tag);
  return { dir, tag };
}

async function rejection(promise: Promise<unknown>): Promise<SandboxError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SandboxError);
  return error as SandboxError;
}

afterEach(async () => {
  await Promise.all(
    tags.splice(0).map((tag) =>
      docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('buildImage', () => {
  it('builds and tags an image, streaming each step and its output', async () => {
    const greeting = `hello-${randomBytes(4).toString('hex')}`;
    const { dir, tag } = await context(`FROM ${BASE}\nARG GREETING\nRUN echo "$GREETING" | tee /greeting\n`);
    const lines: string[] = [];

    const result = await buildImage({
      contextDir: dir,
      tag,
      buildArgs: { GREETING: greeting },
      onProgress: (line) => lines.push(line),
    });

    const image = await docker.getImage(tag).inspect();
    expect(result).toEqual({ tag, imageId: image.Id });
    expect(lines).toContain(`Step 1/3 : FROM ${BASE}`);
    expect(lines).toContain(greeting);
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
  });

  it('reads the Dockerfile named by `dockerfile`', async () => {
    const { dir, tag } = await context(`FROM ${BASE}\nLABEL built-from=custom\n`, 'Dockerfile.custom');
    await buildImage({ contextDir: dir, dockerfile: 'Dockerfile.custom', tag });
    const image = await docker.getImage(tag).inspect();
    expect(image.Config.Labels).toMatchObject({ 'built-from': 'custom' });
  });

  it('fails with IMAGE_BUILD_FAILED naming the failing step, and tags nothing', async () => {
    const { dir, tag } = await context(`FROM ${BASE}\nRUN echo about to fail && exit 3\n`);
    const lines: string[] = [];

    const error = await rejection(
      buildImage({ contextDir: dir, tag, onProgress: (line) => lines.push(line) }),
    );

    expect(isSandboxError(error, 'IMAGE_BUILD_FAILED')).toBe(true);
    expect(error.retryable).toBe(false);
    expect(error.context.step).toBe('Step 2/2 : RUN echo about to fail && exit 3');
    expect(error.message).toContain('non-zero code: 3');
    expect(lines).toContain('about to fail');
    await expect(docker.getImage(tag).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('fails with IMAGE_BUILD_FAILED when the Dockerfile is missing', async () => {
    const { dir, tag } = await context(`FROM ${BASE}\n`);
    const error = await rejection(buildImage({ contextDir: dir, dockerfile: 'Dockerfile.absent', tag }));
    expect(error.code).toBe('IMAGE_BUILD_FAILED');
  });

  it('fails with DOCKER_UNAVAILABLE when the engine cannot be reached', async () => {
    const { dir, tag } = await context(`FROM ${BASE}\n`);
    const error = await rejection(
      buildImage({ contextDir: dir, tag, socketPath: join(dir, 'no-such-docker.sock') }),
    );
    expect(error.code).toBe('DOCKER_UNAVAILABLE');
  });

  it('rejects with ABORTED when aborted during the build', async () => {
    const { dir, tag } = await context(`FROM ${BASE}\nRUN echo started && sleep 30\n`);
    const controller = new AbortController();
    const started = Date.now();
    const error = await rejection(
      buildImage({
        contextDir: dir,
        tag,
        signal: controller.signal,
        onProgress: (line) => {
          if (line === 'started') controller.abort('test');
        },
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
