import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { takeEventToken } from './event-token-file.js';

describe('takeEventToken', () => {
  it('reads the token from its file and empties the file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'token-')), 'event-token');
    writeFileSync(file, 'tok-123\n', { mode: 0o444 });
    expect(takeEventToken({ SANDFLEET_EVENT_TOKEN_FILE: file })).toBe('tok-123');
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('falls back to the variable, and to none', () => {
    expect(takeEventToken({ SANDFLEET_EVENT_TOKEN: 'evt' })).toBe('evt');
    expect(takeEventToken({})).toBeUndefined();
  });
});
