import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStepEnv, takeRuntimeFile } from './runtime-file.js';

describe('takeRuntimeFile', () => {
  it('reads the file and deletes it, so nothing is left for the step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandfleet-rf-'));
    const path = join(dir, 'event-token');
    await writeFile(path, 'tok\n', { mode: 0o400 });
    expect(takeRuntimeFile(path)).toBe('tok\n');
    expect(existsSync(path)).toBe(false);
    expect(takeRuntimeFile(path)).toBeUndefined();
    await rm(dir, { recursive: true });
  });
});

describe('parseStepEnv', () => {
  it('keeps string values only', () => {
    expect(parseStepEnv('{"A":"1","B":2,"NODE_OPTIONS":"--require x"}')).toEqual({
      A: '1',
      NODE_OPTIONS: '--require x',
    });
    expect(parseStepEnv(undefined)).toEqual({});
  });
});
