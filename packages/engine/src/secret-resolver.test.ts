import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from './errors.js';
import { SecretResolver } from './secret-resolver.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sandfleet-secrets-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** The rejection of `promise`, failing the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

describe('SecretResolver', () => {
  it('resolves the requested names from its values, and only those', async () => {
    const resolver = new SecretResolver({ values: { API_TOKEN: 'tok-1', OTHER: 'x', EMPTY: '' } });
    expect(await resolver.resolve(['API_TOKEN', 'EMPTY'], 'step-1')).toEqual({
      API_TOKEN: 'tok-1',
      EMPTY: '',
    });
    expect(await resolver.resolve([], 'step-1')).toEqual({});
  });

  it('reads one file per secret from its directory, dropping one trailing newline', async () => {
    await writeFile(join(directory, 'GH_TOKEN'), 'ghp-123\n');
    await writeFile(join(directory, 'CRLF'), 'value\r\n');
    await writeFile(join(directory, 'PEM'), 'line 1\nline 2\n\n');
    await writeFile(join(directory, 'BARE'), 'bare');
    const resolver = new SecretResolver({ directory });
    expect(await resolver.resolve(['GH_TOKEN', 'CRLF', 'PEM', 'BARE'], 'step-1')).toEqual({
      GH_TOKEN: 'ghp-123',
      CRLF: 'value',
      PEM: 'line 1\nline 2\n',
      BARE: 'bare',
    });
  });

  it('prefers a value over a file of the same name', async () => {
    await writeFile(join(directory, 'API_TOKEN'), 'from-file\n');
    const resolver = new SecretResolver({ values: { API_TOKEN: 'from-values' }, directory });
    expect(await resolver.resolve(['API_TOKEN'], 'step-1')).toEqual({ API_TOKEN: 'from-values' });
  });

  it('refuses with a final UNKNOWN_SECRET listing every missing name, and no value', async () => {
    await writeFile(join(directory, 'FROM_FILE'), 'file-secret-value');
    const resolver = new SecretResolver({ values: { FROM_VALUES: 'values-secret-value' }, directory });
    const error = await rejection(
      resolver.resolve(['FROM_VALUES', 'MISSING_ONE', 'FROM_FILE', 'MISSING_TWO'], 'step-7'),
    );
    expect(error).toMatchObject({ code: 'UNKNOWN_SECRET', retryable: false, context: { stepId: 'step-7' } });
    expect(error.message).toContain('MISSING_ONE');
    expect(error.message).toContain('MISSING_TWO');
    expect(error.message).not.toContain('values-secret-value');
    expect(error.message).not.toContain('file-secret-value');
  });

  it('treats every name as unknown without values or a directory', async () => {
    const error = await rejection(new SecretResolver().resolve(['ANY'], 'step-1'));
    expect(error.code).toBe('UNKNOWN_SECRET');
  });

  it('treats a directory that does not exist as holding no secrets', async () => {
    const resolver = new SecretResolver({ directory: join(directory, 'not-there') });
    const error = await rejection(resolver.resolve(['ANY'], 'step-1'));
    expect(error.code).toBe('UNKNOWN_SECRET');
  });

  it('fails with a retryable SECRETS_UNAVAILABLE when a secret file cannot be read', async () => {
    await mkdir(join(directory, 'A_DIRECTORY'));
    const resolver = new SecretResolver({ directory });
    const error = await rejection(resolver.resolve(['A_DIRECTORY'], 'step-3'));
    expect(error).toMatchObject({
      code: 'SECRETS_UNAVAILABLE',
      retryable: true,
      context: { stepId: 'step-3' },
      cause: { code: 'EISDIR' },
    });
  });

  it('fails with a retryable SECRETS_UNAVAILABLE when the directory is not a directory', async () => {
    const notADirectory = join(directory, 'file');
    await writeFile(notADirectory, 'x');
    const resolver = new SecretResolver({ directory: notADirectory });
    const error = await rejection(resolver.resolve(['ANY'], 'step-4'));
    expect(error).toMatchObject({ code: 'SECRETS_UNAVAILABLE', retryable: true, cause: { code: 'ENOTDIR' } });
  });
});
