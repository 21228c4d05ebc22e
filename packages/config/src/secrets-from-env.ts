import { SECRET_NAME_PATTERN } from '@sandfleet/contracts';
import { ConfigError } from './errors.js';
import type { Env } from './load-env.js';

/** Prefix of variables carrying secret values: `SANDFLEET_SECRET_GITHUB_TOKEN` is secret `GITHUB_TOKEN`. */
export const SECRET_VAR_PREFIX = 'SANDFLEET_SECRET_';

/**
 * Collects the worker's secrets from `SANDFLEET_SECRET_<NAME>` variables, keyed by `<NAME>` (the
 * name steps list in `secrets`). Kept apart from the frozen config so that printing or logging the
 * config never shows a secret value; hand the result to the secret source and the logger's
 * redaction, nowhere else.
 *
 * @throws {@link ConfigError} naming every variable whose `<NAME>` is not a valid secret name
 *   (upper-case, `^[A-Z_][A-Z0-9_]{0,127}$`, not starting `SANDFLEET_`).
 */
export function secretsFromEnv(env: Env): Record<string, string> {
  const secrets: Record<string, string> = {};
  const problems: { path: string; message: string }[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(SECRET_VAR_PREFIX) || value === undefined) continue;
    const name = variable.slice(SECRET_VAR_PREFIX.length);
    if (!SECRET_NAME_PATTERN.test(name) || name.startsWith('SANDFLEET_')) {
      problems.push({
        path: variable,
        message: `secret name must match ${SECRET_NAME_PATTERN.source} and not start with SANDFLEET_`,
      });
    } else {
      secrets[name] = value;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secrets;
}
