import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { loadEnv } from './load-env.js';
import { parseConfig } from './parse-config.js';
import { WorkerConfig } from './worker-config.js';

describe('loadEnv', () => {
  let dir: string;
  const marker = `SANDFLEET_TEST_MARKER_${process.pid}`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandfleet-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads .env from cwd, under the real environment, without touching process.env', () => {
    writeFileSync(
      join(dir, '.env'),
      [
        'SANDFLEET_WORKER_CONCURRENCY=8',
        'SANDFLEET_LOG_LEVEL=debug',
        `${marker}="from file"`,
        '# comment',
      ].join('\n'),
    );
    const before = { ...process.env };
    const env = loadEnv({ cwd: dir, env: { SANDFLEET_LOG_LEVEL: 'warn', OTHER: 'x' } });
    expect(env).toEqual({
      SANDFLEET_WORKER_CONCURRENCY: '8',
      SANDFLEET_LOG_LEVEL: 'warn',
      [marker]: 'from file',
      OTHER: 'x',
    });
    expect(process.env).toEqual(before);
    expect(process.env[marker]).toBeUndefined();
    expect(parseConfig(WorkerConfig, env)).toMatchObject({ workerConcurrency: 8, logLevel: 'warn' });
  });

  it('uses process.env as the real environment by default', () => {
    writeFileSync(join(dir, '.env'), `PATH=/from/file\n${marker}=1\n`);
    const env = loadEnv({ cwd: dir });
    expect(env.PATH).toBe(process.env.PATH);
    expect(env[marker]).toBe('1');
    expect(process.env[marker]).toBeUndefined();
  });

  it('returns the real environment alone when there is no .env', () => {
    expect(loadEnv({ cwd: dir, env: { A: '1', B: undefined } })).toEqual({ A: '1' });
  });

  it('reads an explicitly named file, relative to cwd', () => {
    writeFileSync(join(dir, 'test.env'), 'SANDFLEET_QUEUE_PREFIX=t1\n');
    expect(loadEnv({ cwd: dir, path: 'test.env', env: {} })).toEqual({ SANDFLEET_QUEUE_PREFIX: 't1' });
  });

  it('fails with INVALID_CONFIG when an explicitly named file is missing', () => {
    expect(() => loadEnv({ cwd: dir, path: 'missing.env', env: {} })).toThrow(ConfigError);
  });
});
