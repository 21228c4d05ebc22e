import { AGENT_ID_PATTERN } from '@sandfleet/contracts';
import type { z } from 'zod';
import { commonVars } from './common-config.js';
import { envSchema } from './env-schema.js';
import { optionalUrlVar, optionalVar, stringVar } from './env-vars.js';
import type { DeepReadonly } from './parse-config.js';

/** Variables of the `sandfleet` CLI (besides {@link commonVars}), by name. */
export const cliVars = {
  /** Base URL of a Sandfleet API to talk to; unset = talk to Redis and PostgreSQL directly. */
  SANDFLEET_API_URL: optionalUrlVar(['http', 'https']),
  /** Bearer token sent to the API; unset = none. A credential: never print it. */
  SANDFLEET_API_TOKEN: optionalVar(),
  /** Agent of steps `sandfleet run` enqueues without `--agent`. @defaultValue `default` */
  SANDFLEET_AGENT_ID: stringVar('default', AGENT_ID_PATTERN),
};

/**
 * Config of the `sandfleet` CLI: {@link CommonConfig} plus `apiUrl`, `apiToken` and `agentId`.
 */
export const CliConfig = envSchema({ ...commonVars, ...cliVars });
/** What `parseConfig(CliConfig, env)` returns: deeply read-only. */
export type CliConfig = DeepReadonly<z.output<typeof CliConfig>>;
