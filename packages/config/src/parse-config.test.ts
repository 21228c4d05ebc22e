import { describe, expect, it } from 'vitest';
import { ApiConfig } from './api-config.js';
import { CliConfig } from './cli-config.js';
import { CommonConfig } from './common-config.js';
import { ConfigError } from './errors.js';
import { deepFreeze, parseConfig } from './parse-config.js';
import { WorkerConfig } from './worker-config.js';

describe('parseConfig', () => {
  it('returns a deeply frozen config', () => {
    const config = parseConfig(WorkerConfig, {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.imageAllowlist)).toBe(true);
    expect(() => {
      (config as { workerConcurrency: number }).workerConcurrency = 99;
    }).toThrow(TypeError);
    expect(() => (config.imageAllowlist as string[]).push('x')).toThrow(TypeError);
  });

  it('throws a ConfigError whose message lists the problems one per line', () => {
    const error = (() => {
      try {
        parseConfig(CommonConfig, { SANDFLEET_DATABASE_SCHEMA: 'Bad-Schema', SANDFLEET_QUEUE_NAME: 'a:b' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', retryable: false });
    expect((error as ConfigError).message).toBe(
      [
        'invalid configuration:',
        '  SANDFLEET_DATABASE_SCHEMA: must match ^[a-z_][a-z0-9_]{0,62}$',
        '  SANDFLEET_QUEUE_NAME: must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$',
      ].join('\n'),
    );
    expect((error as ConfigError).issues[0]).toEqual({
      path: 'SANDFLEET_DATABASE_SCHEMA',
      message: 'must match ^[a-z_][a-z0-9_]{0,62}$',
    });
  });

  it('ignores variables no schema names', () => {
    expect(parseConfig(CommonConfig, { PATH: '/bin', SANDFLEET_UNKNOWN: 'x' })).not.toHaveProperty('unknown');
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays and returns its argument', () => {
    const value = { a: { b: [{ c: 1 }] } };
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(value.a.b[0])).toBe(true);
  });
});

describe('CommonConfig', () => {
  it('accepts rediss:// and postgresql:// URLs and a test schema and prefix', () => {
    expect(
      parseConfig(CommonConfig, {
        SANDFLEET_REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
        SANDFLEET_DATABASE_URL: 'postgresql://app:pw@db/sandfleet?sslmode=require',
        SANDFLEET_DATABASE_SCHEMA: 'test_1f3a',
        SANDFLEET_QUEUE_PREFIX: 'sftest.1f3a',
        SANDFLEET_QUEUE_NAME: 'steps-1f3a',
      }),
    ).toEqual({
      redisUrl: 'rediss://:pw@redis.internal:6380/2',
      databaseUrl: 'postgresql://app:pw@db/sandfleet?sslmode=require',
      databaseSchema: 'test_1f3a',
      logLevel: 'info',
      queuePrefix: 'sftest.1f3a',
      queueName: 'steps-1f3a',
    });
  });

  it('rejects a fleet prefix that cannot name Docker volumes or would make fleets share names', () => {
    expect(() => parseConfig(CommonConfig, { SANDFLEET_QUEUE_PREFIX: 'sftest:1f3a' })).toThrow(
      "SANDFLEET_QUEUE_PREFIX: must be 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit (no ':': it names Docker volumes)",
    );
    expect(() => parseConfig(CommonConfig, { SANDFLEET_QUEUE_PREFIX: 'team-home' })).toThrow(
      `SANDFLEET_QUEUE_PREFIX: must not have "home" as a '-'-separated part`,
    );
    expect(parseConfig(CommonConfig, { SANDFLEET_QUEUE_PREFIX: 'team-a.homes' }).queuePrefix).toBe(
      'team-a.homes',
    );
  });

  it("rejects a queue name the fleet's own Redis keys use", () => {
    expect(() => parseConfig(CommonConfig, { SANDFLEET_QUEUE_NAME: 'events' })).toThrow(
      'SANDFLEET_QUEUE_NAME: must not be events, fence, cancel, workers, agent-lock',
    );
  });

  it('rejects a database URL of another scheme', () => {
    expect(() => parseConfig(CommonConfig, { SANDFLEET_DATABASE_URL: 'mysql://db' })).toThrow(
      'SANDFLEET_DATABASE_URL: must be a postgres:// or postgresql:// URL',
    );
  });
});

describe('CliConfig', () => {
  it('defaults the agent to default and leaves the API unset', () => {
    expect(parseConfig(CliConfig, {})).toMatchObject({
      agentId: 'default',
      apiUrl: undefined,
      apiToken: undefined,
    });
  });

  it('takes the API URL, token and agent from the environment', () => {
    const config = parseConfig(CliConfig, {
      SANDFLEET_API_URL: 'https://sandfleet.example.com',
      SANDFLEET_API_TOKEN: 'tok',
      SANDFLEET_AGENT_ID: 'coder',
    });
    expect(config).toMatchObject({
      apiUrl: 'https://sandfleet.example.com',
      apiToken: 'tok',
      agentId: 'coder',
    });
  });

  it('rejects an API URL that is not http(s) and an invalid agent id', () => {
    expect(() =>
      parseConfig(CliConfig, { SANDFLEET_API_URL: 'localhost:8080', SANDFLEET_AGENT_ID: 'Me' }),
    ).toThrow(/SANDFLEET_API_URL: must be a http:\/\/ or https:\/\/ URL\n {2}SANDFLEET_AGENT_ID: must match/);
  });
});

describe('ApiConfig', () => {
  it('listens on 0.0.0.0:8080 without tokens, a 12 MiB body limit and 15 s heartbeats by default', () => {
    expect(parseConfig(ApiConfig, { SANDFLEET_API_PORT: '' })).toMatchObject({
      apiHost: '0.0.0.0',
      apiPort: 8080,
      apiTokens: [],
      apiAllowNoAuth: false,
      apiBodyLimitBytes: 12 * 1024 * 1024,
      apiHeartbeatMs: 15_000,
    });
  });

  it('takes comma-separated tokens and a yes/no switch', () => {
    const config = parseConfig(ApiConfig, {
      SANDFLEET_API_TOKENS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb',
      SANDFLEET_API_ALLOW_NO_AUTH: 'TRUE',
      SANDFLEET_API_BODY_LIMIT_BYTES: '2048',
      SANDFLEET_API_HEARTBEAT_MS: '250',
    });
    expect(config).toMatchObject({
      apiTokens: ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb'],
      apiAllowNoAuth: true,
      apiBodyLimitBytes: 2048,
      apiHeartbeatMs: 250,
    });
  });

  it('rejects short tokens and a switch that is not true or false, without echoing the values', () => {
    const error = (() => {
      try {
        parseConfig(ApiConfig, {
          SANDFLEET_API_TOKENS: 'short-secret',
          SANDFLEET_API_ALLOW_NO_AUTH: 'maybe',
        });
      } catch (caught) {
        return caught as ConfigError;
      }
    })();
    expect(error?.issues.map((issue) => issue.path)).toEqual([
      'SANDFLEET_API_TOKENS',
      'SANDFLEET_API_ALLOW_NO_AUTH',
    ]);
    expect(error?.message).toContain('SANDFLEET_API_ALLOW_NO_AUTH: must be true or false');
    expect(error?.message).not.toContain('short-secret');
  });
});
