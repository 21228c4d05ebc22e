import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { secretsFromEnv } from './secrets-from-env.js';

describe('secretsFromEnv', () => {
  it('collects SANDFLEET_SECRET_<NAME> variables by name and nothing else', () => {
    expect(
      secretsFromEnv({
        SANDFLEET_SECRET_GITHUB_TOKEN: 'ghp_abc',
        SANDFLEET_SECRET_EMPTY: '',
        SANDFLEET_SECRETS_DIR: '/run/secrets',
        SANDFLEET_REDIS_URL: 'redis://x',
        GITHUB_TOKEN: 'not-this-one',
        SANDFLEET_SECRET_UNSET: undefined,
      }),
    ).toEqual({ GITHUB_TOKEN: 'ghp_abc', EMPTY: '' });
  });

  it('returns nothing when there are no secret variables', () => {
    expect(secretsFromEnv({ PATH: '/bin' })).toEqual({});
  });

  it('rejects every variable whose name is not a valid secret name, without showing values', () => {
    let error: unknown;
    try {
      secretsFromEnv({
        SANDFLEET_SECRET_lower: 'v1',
        SANDFLEET_SECRET_: 'v2',
        SANDFLEET_SECRET_SANDFLEET_X: 'v3',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('INVALID_CONFIG');
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual([
      'SANDFLEET_SECRET_lower',
      'SANDFLEET_SECRET_',
      'SANDFLEET_SECRET_SANDFLEET_X',
    ]);
    expect((error as ConfigError).message).not.toMatch(/v1|v2|v3/);
  });
});
