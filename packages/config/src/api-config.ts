import type { z } from 'zod';
import { commonVars } from './common-config.js';
import { envSchema } from './env-schema.js';
import { intVar, optionalVar, stringVar } from './env-vars.js';
import type { DeepReadonly } from './parse-config.js';

/** Variables of the HTTP API (besides {@link commonVars}), by name. */
export const apiVars = {
  /** Address the API listens on. @defaultValue `0.0.0.0` */
  SANDFLEET_API_HOST: stringVar('0.0.0.0'),
  /** Port the API listens on; 0 picks a free one (tests). @defaultValue 8080 */
  SANDFLEET_API_PORT: intVar(8080, { min: 0, max: 65_535 }),
  /** Bearer token clients must send; unset = no authentication. A credential: never print it. */
  SANDFLEET_API_TOKEN: optionalVar(),
};

/** Config of the HTTP API: {@link CommonConfig} plus `apiHost`, `apiPort` and `apiToken`. */
export const ApiConfig = envSchema({ ...commonVars, ...apiVars });
/** What `parseConfig(ApiConfig, env)` returns: deeply read-only. */
export type ApiConfig = DeepReadonly<z.output<typeof ApiConfig>>;
