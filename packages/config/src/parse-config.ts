import { toFieldIssues } from '@sandfleet/contracts';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import type { Env } from './load-env.js';

/** `T` with every nested property read-only, as {@link parseConfig} returns it. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer Item)[]
    ? readonly DeepReadonly<Item>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value as DeepReadonly<T>;
}

/**
 * Parses `env` with an app's config schema (built with `envSchema`), once at start-up.
 *
 * @returns the config, deeply frozen.
 * @throws {@link ConfigError} (`INVALID_CONFIG`) listing every problem as `VARIABLE_NAME: message`.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Env): DeepReadonly<z.output<S>> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(toFieldIssues(result.error));
  return deepFreeze(result.data);
}
