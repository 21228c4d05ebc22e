import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { ConfigError } from './errors.js';

/** Environment variables as a plain object, like `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadEnvOptions {
  /** Directory the `.env` file is looked up in. @defaultValue `process.cwd()` */
  cwd?: string;
  /**
   * The dotenv file, relative to `cwd` or absolute. When given, it must exist; the default
   * `.env` may be absent. @defaultValue `'.env'`
   */
  path?: string;
  /** The real environment, which wins over the file. @defaultValue `process.env` */
  env?: Env;
}

function readDotenv(file: string, required: boolean): Record<string, string> {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError([{ path: file, message: 'could not be read' }], { cause: error });
  }
  return parse(source);
}

/**
 * Reads the environment an app is configured from: the variables of a dotenv file, overridden by
 * the real environment. Neither `process.env` nor the file is modified; call once at start-up and
 * hand the result to `parseConfig`.
 *
 * @throws {@link ConfigError} when an explicitly given file cannot be read.
 */
export function loadEnv(options: LoadEnvOptions = {}): Env {
  const file = resolve(options.cwd ?? process.cwd(), options.path ?? '.env');
  const fromFile = readDotenv(file, options.path !== undefined);
  const real = options.env ?? process.env;
  const merged: Record<string, string> = { ...fromFile };
  for (const [name, value] of Object.entries(real)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}
