import { describe, expect, expectTypeOf, it } from 'vitest';
import { commonVars } from './common-config.js';
import { envSchema, fieldName } from './env-schema.js';
import { enumVar, intVar, listVar, numberVar, optionalVar, stringVar } from './env-vars.js';
import { parseConfig } from './parse-config.js';

describe('fieldName', () => {
  it('drops SANDFLEET_ and camel-cases the rest', () => {
    expect(fieldName('SANDFLEET_WORKER_CONCURRENCY')).toBe('workerConcurrency');
    expect(fieldName('SANDFLEET_DEFAULT_TIMEOUT_MS')).toBe('defaultTimeoutMs');
    expect(fieldName('OTHER_VAR')).toBe('otherVar');
  });
});

describe('envSchema', () => {
  const Schema = envSchema({
    ...commonVars,
    SANDFLEET_N: intVar(3, { min: 0, max: 10 }),
    SANDFLEET_RATIO: numberVar(0.5, { min: 0, max: 1 }),
    SANDFLEET_MODE: enumVar(['a', 'b'], 'a'),
    SANDFLEET_NAME: stringVar(() => 'computed', /^[a-z]+$/),
    SANDFLEET_TAGS: listVar([], /^\w+$/, 'must be a comma-separated list of words'),
    SANDFLEET_NOTE: optionalVar(),
  });

  it('extends the common variables with an app’s own, keyed in camelCase', () => {
    const config = parseConfig(Schema, { SANDFLEET_N: ' 7 ', SANDFLEET_TAGS: 'x,y' });
    expect(config).toMatchObject({
      n: 7,
      ratio: 0.5,
      mode: 'a',
      name: 'computed',
      tags: ['x', 'y'],
      note: undefined,
    });
    expect(config.queueName).toBe('steps');
    expectTypeOf(config.n).toEqualTypeOf<number>();
    expectTypeOf(config.mode).toEqualTypeOf<'a' | 'b'>();
    expectTypeOf(config.note).toEqualTypeOf<string | undefined>();
  });

  it.each([
    ['SANDFLEET_N', '5e1', 'must be an integer between 0 and 10'],
    ['SANDFLEET_N', '0x5', 'must be an integer between 0 and 10'],
    ['SANDFLEET_N', '11', 'must be an integer between 0 and 10'],
    ['SANDFLEET_N', '-1', 'must be an integer between 0 and 10'],
    ['SANDFLEET_RATIO', '1.5', 'must be a number between 0 and 1'],
    ['SANDFLEET_RATIO', 'NaN', 'must be a number between 0 and 1'],
    ['SANDFLEET_MODE', 'A', 'must be one of a, b'],
    ['SANDFLEET_NAME', 'X', 'must match ^[a-z]+$'],
    ['SANDFLEET_TAGS', ' , ', 'must be a comma-separated list of words'],
  ])('rejects %s=%j', (name, value, message) => {
    expect(() => parseConfig(Schema, { [name]: value })).toThrow(`${name}: ${message}`);
  });
});
