import { describe, expect, it } from 'vitest';
import { ApiConfig } from './api-config.js';
import { CliConfig } from './cli-config.js';
import { parseConfig } from './parse-config.js';
import { printableConfig } from './printable-config.js';

describe('printableConfig', () => {
  it('masks tokens and URL passwords and keeps everything else', () => {
    const config = parseConfig(CliConfig, {
      SANDFLEET_API_TOKEN: 'tok-123',
      SANDFLEET_DATABASE_URL: 'postgres://app:s3cret@db:5432/sandfleet',
      SANDFLEET_REDIS_URL: 'redis://redis:6379',
    });
    const printable = printableConfig(config);
    expect(printable).toMatchObject({
      apiToken: '***',
      databaseUrl: 'postgres://app:***@db:5432/sandfleet',
      redisUrl: 'redis://redis:6379',
      agentId: 'default',
    });
    expect(JSON.stringify(printable)).not.toMatch(/tok-123|s3cret/);
  });

  it('leaves an unset token unset', () => {
    expect(printableConfig(parseConfig(CliConfig, {})).apiToken).toBeUndefined();
  });

  it('masks every API token and keeps an empty token list visible', () => {
    const config = parseConfig(ApiConfig, { SANDFLEET_API_TOKENS: 'tok-0123456789abcdef' });
    expect(printableConfig(config).apiTokens).toBe('***');
    expect(JSON.stringify(printableConfig(config))).not.toContain('tok-0123456789abcdef');
    expect(printableConfig(parseConfig(ApiConfig, {})).apiTokens).toEqual([]);
  });
});
