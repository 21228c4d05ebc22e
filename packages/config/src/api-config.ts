import type { z } from 'zod';
import { commonVars } from './common-config.js';
import { envSchema } from './env-schema.js';
import { boolVar, intVar, listVar, stringVar } from './env-vars.js';
import type { DeepReadonly } from './parse-config.js';

/** An API token: 16 or more URL- and cookie-safe characters (e.g. `openssl rand -hex 32`). */
export const API_TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/** Default of `SANDFLEET_API_BODY_LIMIT_BYTES`: 12 MiB, room for a StepSpec's files and input. */
export const DEFAULT_API_BODY_LIMIT_BYTES = 12 * 1024 * 1024;

/** Variables of the HTTP API (besides {@link commonVars}), by name. */
export const apiVars = {
  /** Address the API listens on. @defaultValue `0.0.0.0` */
  SANDFLEET_API_HOST: stringVar('0.0.0.0'),
  /** Port the API listens on; 0 picks a free one (tests). @defaultValue 8080 */
  SANDFLEET_API_PORT: intVar(8080, { min: 0, max: 65_535 }),
  /**
   * Comma-separated bearer tokens the API accepts (each ≥ 16 characters of `A-Za-z0-9._~+/=-`).
   * Credentials: never printed. Unset = none, and the API refuses to start unless
   * `SANDFLEET_API_ALLOW_NO_AUTH=true` on a loopback host. @defaultValue none
   */
  SANDFLEET_API_TOKENS: listVar(
    () => [],
    API_TOKEN_PATTERN,
    'must be a comma-separated list of tokens of 16 to 512 characters among A-Za-z0-9._~+/=-',
  ),
  /**
   * Serve without authentication when no token is set; only honoured when the API listens on a
   * loopback host (127.0.0.1, ::1, localhost). @defaultValue false
   */
  SANDFLEET_API_ALLOW_NO_AUTH: boolVar(false),
  /** Largest request body accepted, bytes; larger ones get 413. @defaultValue 12582912 (12 MiB) */
  SANDFLEET_API_BODY_LIMIT_BYTES: intVar(DEFAULT_API_BODY_LIMIT_BYTES, { min: 1024, max: 1024 ** 3 }),
  /** Interval of SSE heartbeat comments on idle event streams, ms. @defaultValue 15000 */
  SANDFLEET_API_HEARTBEAT_MS: intVar(15_000, { min: 10, max: 3_600_000 }),
};

/**
 * Config of the HTTP API: {@link CommonConfig} plus `apiHost`, `apiPort`, `apiTokens`,
 * `apiAllowNoAuth`, `apiBodyLimitBytes` and `apiHeartbeatMs`.
 */
export const ApiConfig = envSchema({ ...commonVars, ...apiVars });
/** What `parseConfig(ApiConfig, env)` returns: deeply read-only. */
export type ApiConfig = DeepReadonly<z.output<typeof ApiConfig>>;
