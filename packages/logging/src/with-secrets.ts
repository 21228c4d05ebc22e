import type pino from 'pino';
import { type Logger, secretRegistryOf } from './create-logger.js';

/** A child logger whose secret values are redacted until {@link SecretScope.release}. */
export interface SecretScope {
  /** Child of the given logger, with the given bindings. */
  readonly logger: Logger;
  /** Stops redacting this scope's values (unless another scope still holds them). Idempotent. */
  release(): void;
}

/**
 * Makes a child logger for work that handles extra secret values, such as one step:
 *
 * ```ts
 * const scope = withSecrets(log, Object.values(stepSecrets), { stepId, agentId });
 * try { … scope.logger.info({ attempt }, 'step started') … } finally { scope.release(); }
 * ```
 *
 * The values go into the registry of the logger's root, which every logger of that root consults
 * (secrets are secret everywhere, not only in this step's lines). `release` drops them again so
 * a long-running worker's registry does not grow with each step; values are reference-counted,
 * so a value another live scope also holds stays redacted.
 */
export function withSecrets(
  logger: Logger,
  secrets: Iterable<string>,
  bindings: pino.Bindings = {},
): SecretScope {
  const registry = secretRegistryOf(logger);
  const values = [...secrets];
  registry.add(values);
  let released = false;
  return {
    logger: logger.child(bindings),
    release() {
      if (released) return;
      released = true;
      registry.remove(values);
    },
  };
}
