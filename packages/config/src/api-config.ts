import { isIP } from 'node:net';
import { DEFAULT_BATCH_MAX_STEPS } from '@sandfleet/contracts';
import type { z } from 'zod';
import { commonVars } from './common-config.js';
import { envSchema } from './env-schema.js';
import { boolVar, checkedVar, intVar, listVar, optionalVar, stringVar } from './env-vars.js';
import type { DeepReadonly } from './parse-config.js';

/** An API token: 16 or more URL- and cookie-safe characters (e.g. `openssl rand -hex 32`). */
export const API_TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/** Default of `SANDFLEET_API_BODY_LIMIT_BYTES`: 12 MiB, room for a StepSpec's files and input. */
export const DEFAULT_API_BODY_LIMIT_BYTES = 12 * 1024 * 1024;

/**
 * Default of `SANDFLEET_API_BATCH_BODY_LIMIT_BYTES`: 32 MiB, room for a full batch of ordinary
 * specs (about 1 KiB each) or a few with large files.
 */
export const DEFAULT_API_BATCH_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];
const isProxyAddress = (entry: string) => {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return PROXY_RANGES.includes(entry);
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};
const trustProxyProblem = (text: string) =>
  /^(?:true|false|\d{1,2})$/i.test(text) || text.split(',').every((e) => isProxyAddress(e.trim()))
    ? undefined
    : 'must be true, false, a number of proxy hops, or comma-separated proxy addresses/CIDRs (or loopback, linklocal, uniquelocal)';
/** `SANDFLEET_API_TRUST_PROXY` as Fastify's `trustProxy`: a switch, a hop count, or proxy addresses. */
const toTrustProxy = (text: string): boolean | number | string => {
  if (typeof text !== 'string') return false; // unreachable: an invalid value was reported
  if (/^(?:true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  return /^\d+$/.test(text) ? Number(text) : text;
};

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
   * Path of a JSON file of named, scoped tokens (`{ "tokens": [ { "name", "token" | "sha256",
   * "agents", "secrets", "images", "quotas" } ] }`, see `ApiTokensFile`); read by `startApi`.
   * Enough alone to start the API. Credentials. @defaultValue none
   */
  SANDFLEET_API_TOKENS_FILE: optionalVar(),
  /**
   * Serve without authentication when no token is set; only honoured when the API listens on a
   * loopback host (127.0.0.1, ::1, localhost). @defaultValue false
   */
  SANDFLEET_API_ALLOW_NO_AUTH: boolVar(false),
  /** Largest request body accepted, bytes; larger ones get 413. @defaultValue 12582912 (12 MiB) */
  SANDFLEET_API_BODY_LIMIT_BYTES: intVar(DEFAULT_API_BODY_LIMIT_BYTES, { min: 1024, max: 1024 ** 3 }),
  /**
   * Most steps one `POST /v1/steps/batch` may hold; more is 400 `VALIDATION_FAILED`.
   * @defaultValue 1000 (`DEFAULT_BATCH_MAX_STEPS` of `@sandfleet/contracts`)
   */
  SANDFLEET_API_BATCH_MAX_STEPS: intVar(DEFAULT_BATCH_MAX_STEPS, { min: 1, max: 10_000 }),
  /**
   * Largest body of `POST /v1/steps/batch`, bytes (other routes: `SANDFLEET_API_BODY_LIMIT_BYTES`);
   * larger ones get 413. @defaultValue 33554432 (32 MiB)
   */
  SANDFLEET_API_BATCH_BODY_LIMIT_BYTES: intVar(DEFAULT_API_BATCH_BODY_LIMIT_BYTES, {
    min: 1024,
    max: 1024 ** 3,
  }),
  /** Interval of SSE heartbeat comments on idle event streams, ms. @defaultValue 15000 */
  SANDFLEET_API_HEARTBEAT_MS: intVar(15_000, { min: 10, max: 3_600_000 }),
  /**
   * Which proxies' `X-Forwarded-For`/`-Proto`/`-Host` to believe (Fastify `trustProxy`): `false`;
   * `true` (any: only when nothing but the proxy reaches the API); a number of hops; or the
   * proxies' addresses/CIDRs, comma-separated. Gives real client IPs (login rate limit, logs) and
   * the `Secure` cookie behind TLS. @defaultValue false
   */
  SANDFLEET_API_TRUST_PROXY: checkedVar('false', trustProxyProblem).transform(toTrustProxy),
  /** Event streams (SSE) one token may hold open at once; past it 429 `RATE_LIMITED`. @defaultValue 50 */
  SANDFLEET_API_SSE_MAX_PER_TOKEN: intVar(50, { min: 1, max: 1_000_000 }),
  /** Event streams (SSE) the API holds open at once; past it 429 `RATE_LIMITED`. @defaultValue 1000 */
  SANDFLEET_API_SSE_MAX_TOTAL: intVar(1000, { min: 1, max: 1_000_000 }),
};

/**
 * Config of the HTTP API: {@link CommonConfig} plus `apiHost`, `apiPort`, `apiTokens`,
 * `apiAllowNoAuth`, `apiBodyLimitBytes`, `apiBatchMaxSteps`, `apiBatchBodyLimitBytes`,
 * `apiHeartbeatMs`, … (one field per variable).
 */
export const ApiConfig = envSchema({ ...commonVars, ...apiVars });
/** What `parseConfig(ApiConfig, env)` returns: deeply read-only. */
export type ApiConfig = DeepReadonly<z.output<typeof ApiConfig>>;
