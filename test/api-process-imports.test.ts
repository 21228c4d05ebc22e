import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './support/test-fleet.js';

const API_MAIN = fileURLToPath(new URL('../apps/api/dist/main.js', import.meta.url));

/** Module-loader hooks (run on the loader thread) appending every resolved URL to a file. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export async function initialize(data) { log = data.log; }
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(log, resolved.url + '\\n');
  return resolved;
}
`;
const REGISTER = `
import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url), { data: { log: process.env.IMPORTS_LOG } });
`;

/** What the API process must never load: the Docker client and the worker-side packages. */
const FORBIDDEN = [
  /dockerode/,
  /docker-modem/,
  /\/packages\/sandbox\//,
  /\/packages\/engine\//,
  /@sandfleet\/(sandbox|engine)/,
];

describe('the API process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sandfleet-api-imports-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves without ever loading dockerode, the sandbox or the engine', async () => {
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(join(dir, 'register.mjs'), REGISTER);
    const log = join(dir, 'imports.log');
    writeFileSync(log, '');
    const child = spawn(process.execPath, ['--import', join(dir, 'register.mjs'), API_MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        IMPORTS_LOG: log,
        SANDFLEET_DATABASE_URL: TEST_DATABASE_URL,
        SANDFLEET_DATABASE_SCHEMA: `t_imports_${randomBytes(4).toString('hex')}`,
        SANDFLEET_REDIS_URL: TEST_REDIS_URL,
        SANDFLEET_QUEUE_PREFIX: `sftest-imports-${randomBytes(4).toString('hex')}`,
        SANDFLEET_API_HOST: '127.0.0.1',
        SANDFLEET_API_PORT: '0',
        SANDFLEET_API_ALLOW_NO_AUTH: 'true',
        SANDFLEET_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`API did not listen:\n${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`API exited (${code}) before listening:\n${output}`)));
    });
    try {
      // Serving requests (health, a step lookup, a cancel) loads no more than starting did.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/v1/steps/nope-${randomBytes(4).toString('hex')}`)).status).not.toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const urls = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
    // The hooks saw the process load: the API itself and its own packages.
    expect(urls.some((u) => u.endsWith('/apps/api/dist/start-api.js'))).toBe(true);
    expect(urls.some((u) => u.includes('/packages/stream/dist/'))).toBe(true);
    expect(urls.filter((u) => FORBIDDEN.some((pattern) => pattern.test(u)))).toEqual([]);
  });
});
