import { z } from 'zod';

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}`
  : Lowercase<S>;

/** Config field of an environment variable: `SANDFLEET_WORKER_CONCURRENCY` → `workerConcurrency`. */
export type FieldName<Variable extends string> = CamelCase<
  Variable extends `SANDFLEET_${infer Rest}` ? Rest : Variable
>;

/** An object keyed by variable names, re-keyed by {@link FieldName}. */
export type Camelized<T> = { [K in keyof T as K extends string ? FieldName<K> : never]: T[K] };

/** Runtime twin of {@link FieldName}. */
export function fieldName(variable: string): string {
  return variable
    .replace(/^SANDFLEET_/, '')
    .toLowerCase()
    .replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Values of a shape's variables once parsed, keyed by variable name. */
export type EnvValues<Shape extends z.ZodRawShape> = z.output<z.ZodObject<Shape>>;

/** A whole-config check, e.g. "a default may not exceed its maximum"; add issues at variable paths. */
export type EnvCheck<Shape extends z.ZodRawShape> = (values: EnvValues<Shape>, ctx: z.RefinementCtx) => void;

/**
 * Builds an app's config schema over the environment: each key of `shape` is a variable name,
 * and the parsed result has one camelCase field per variable. Variables not in the shape are
 * ignored. Issue paths are variable names, so problems read `SANDFLEET_X: message`.
 */
export function envSchema<Shape extends z.ZodRawShape>(shape: Shape, check?: EnvCheck<Shape>) {
  const object = z.object(shape);
  const checked = check ? object.superRefine((values, ctx) => check(values, ctx)) : object;
  // Keyed from the shape, not the values, so unset optional fields exist (as undefined) like the type says.
  const names = Object.keys(shape);
  return checked.transform(
    (values) =>
      Object.fromEntries(
        names.map((name) => [fieldName(name), (values as Record<string, unknown>)[name]]),
      ) as Camelized<EnvValues<Shape>>,
  );
}
