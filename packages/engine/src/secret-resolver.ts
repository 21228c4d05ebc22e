import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from './errors.js';

export interface SecretResolverOptions {
  /** Secret values by name (for example from `SANDFLEET_SECRET_<NAME>` variables). */
  values?: Readonly<Record<string, string>>;
  /** A directory holding one file per secret, named after it (Docker/Kubernetes secret mounts). */
  directory?: string;
}

/**
 * Resolves the secret names a step asks for from the worker's own secret source, at run time.
 * Values never leave the worker except as the step container's environment.
 */
export class SecretResolver {
  readonly #values: Readonly<Record<string, string>>;
  readonly #directory: string | undefined;

  constructor(options: SecretResolverOptions = {}) {
    this.#values = options.values ?? {};
    this.#directory = options.directory;
  }

  /**
   * @returns name → value for every requested name.
   * @throws EngineError `UNKNOWN_SECRET` listing every name that has no value (final).
   */
  async resolve(names: readonly string[], stepId: string): Promise<Record<string, string>> {
    const resolved: Record<string, string> = {};
    const missing: string[] = [];
    for (const name of names) {
      const value = this.#values[name] ?? (await this.#fromDirectory(name, stepId));
      if (value === undefined) missing.push(name);
      else resolved[name] = value;
    }
    if (missing.length > 0) {
      throw new EngineError(
        'UNKNOWN_SECRET',
        `unknown secret${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
        {
          context: { stepId },
        },
      );
    }
    return resolved;
  }

  async #fromDirectory(name: string, stepId: string): Promise<string | undefined> {
    if (!this.#directory) return undefined;
    try {
      return (await readFile(join(this.#directory, name), 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new EngineError('SECRETS_UNAVAILABLE', `cannot read secret ${name} from ${this.#directory}`, {
        cause: error,
        retryable: true,
        context: { stepId },
      });
    }
  }
}
