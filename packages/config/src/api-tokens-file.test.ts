import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadApiTokens, parseApiTokensFile } from './api-tokens-file.js';
import { ConfigError } from './errors.js';

const TOKEN = 'team-a-token-0123456789';
const SHA = createHash('sha256').update(TOKEN).digest('hex');

function problems(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseApiTokensFile', () => {
  it('keeps only the digest, the scope given and the default quotas', () => {
    const [token] = parseApiTokensFile(
      JSON.stringify({ tokens: [{ name: 'team-a', token: TOKEN, agents: ['team-a-*'], secrets: [] }] }),
      'tokens.json',
    );
    expect(token).toEqual({
      name: 'team-a',
      sha256: SHA,
      scope: { agents: ['team-a-*'], secrets: [], team: 'team-a' },
      quotas: { maxQueued: 1000, maxJobBytes: 8 * 1024 * 1024, createsPerMinute: 600 },
    });
    expect(JSON.stringify(token)).not.toContain(TOKEN);
  });

  it('takes a sha256 instead of the token and quotas that override the defaults', () => {
    const [token] = parseApiTokensFile(
      JSON.stringify({ tokens: [{ name: 'ci', sha256: SHA, quotas: { maxQueued: 5 } }] }),
      'f.json',
    );
    expect(token?.sha256).toBe(SHA);
    expect(token?.scope).toEqual({ team: 'ci' });
    expect(token?.quotas?.maxQueued).toBe(5);
    expect(token?.quotas?.createsPerMinute).toBe(600);
  });

  it("takes the team of the token's shared vault and the most it may ask of it", () => {
    const [named, own] = parseApiTokensFile(
      JSON.stringify({
        tokens: [
          { name: 'ci-a', token: TOKEN, team: 'team-a', vault: 'read' },
          { name: 'team-b', sha256: '0'.repeat(64) },
        ],
      }),
      'f.json',
    );
    expect(named?.scope).toEqual({ team: 'team-a', vault: 'read' });
    expect(own?.scope).toEqual({ team: 'team-b' });
    const found = problems(() =>
      parseApiTokensFile(
        JSON.stringify({ tokens: [{ name: 'x', token: TOKEN, team: '../etc', vault: 'admin' }] }),
        'f.json',
      ),
    );
    expect(found.join('\n')).toMatch(/tokens\.0\.team: must match/);
    expect(found.join('\n')).toMatch(/tokens\.0\.vault: must be one of read, write/);
  });

  it('names the file and each bad field, never the token', () => {
    const found = problems(() =>
      parseApiTokensFile(
        JSON.stringify({
          tokens: [
            { name: 'a', token: TOKEN, sha256: SHA },
            { name: 'b' },
            { name: 'a', token: 'short' },
            { name: 'c', sha256: 'ABC', agents: ['has space'], extra: 1, quotas: { maxQueued: 0 } },
          ],
        }),
        '/etc/sandfleet/tokens.json',
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'SANDFLEET_API_TOKENS_FILE: /etc/sandfleet/tokens.json: tokens.0.token: give exactly one of token and sha256',
        'SANDFLEET_API_TOKENS_FILE: /etc/sandfleet/tokens.json: tokens.1.token: give exactly one of token and sha256',
        expect.stringMatching(/tokens\.2\.token: must be 16 to 512 characters/),
        'SANDFLEET_API_TOKENS_FILE: /etc/sandfleet/tokens.json: tokens.2.name: repeats tokens.0.name',
        expect.stringMatching(/tokens\.3\.sha256: must be 64 lower-case hex digits/),
        expect.stringMatching(/tokens\.3\.agents\.0: must be 1–256 printable characters/),
        'SANDFLEET_API_TOKENS_FILE: /etc/sandfleet/tokens.json: tokens.3.extra: is not a known field',
        expect.stringMatching(/tokens\.3\.quotas\.maxQueued: must be at least 1/),
      ]),
    );
    expect(found.join('\n')).not.toContain(TOKEN);
  });

  it('refuses text that is not JSON, an empty list and the same token twice', () => {
    expect(problems(() => parseApiTokensFile('{"tokens": [', 'x.json'))[0]).toMatch(
      /^SANDFLEET_API_TOKENS_FILE: x\.json: is not valid JSON/,
    );
    expect(problems(() => parseApiTokensFile('{"tokens": []}', 'x.json'))).toEqual([
      'SANDFLEET_API_TOKENS_FILE: x.json: tokens: must list at least one token',
    ]);
    const twice = {
      tokens: [
        { name: 'a', token: TOKEN },
        { name: 'b', sha256: SHA },
      ],
    };
    expect(problems(() => parseApiTokensFile(JSON.stringify(twice), 'x.json'))).toEqual([
      'SANDFLEET_API_TOKENS_FILE: x.json: tokens.1: is the same token as tokens.0',
    ]);
  });
});

describe('loadApiTokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sandfleet-tokens-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the tokens of SANDFLEET_API_TOKENS env-1, env-2 and leaves them unrestricted', () => {
    const tokens = loadApiTokens(['first-token-0123456789', 'second-token-0123456789']);
    expect(tokens.map((t) => [t.name, t.scope, t.quotas])).toEqual([
      ['env-1', {}, undefined],
      ['env-2', {}, undefined],
    ]);
  });

  it('adds the file’s tokens, and refuses a missing file or a name or token the env has', () => {
    const file = join(dir, 'tokens.json');
    writeFileSync(file, JSON.stringify({ tokens: [{ name: 'team-a', token: TOKEN }] }));
    expect(loadApiTokens([], file).map((t) => t.name)).toEqual(['team-a']);
    expect(problems(() => loadApiTokens([TOKEN], file))).toEqual([
      `SANDFLEET_API_TOKENS_FILE: ${file}: tokens.0: token is also SANDFLEET_API_TOKENS (env-1)`,
    ]);
    writeFileSync(file, JSON.stringify({ tokens: [{ name: 'env-1', token: TOKEN }] }));
    expect(problems(() => loadApiTokens(['other-token-0123456789'], file))[0]).toMatch(
      /tokens\.0: name env-1 is taken by SANDFLEET_API_TOKENS/,
    );
    expect(problems(() => loadApiTokens([], join(dir, 'missing.json')))).toEqual([
      `SANDFLEET_API_TOKENS_FILE: ${join(dir, 'missing.json')}: cannot be read (ENOENT)`,
    ]);
  });
});
