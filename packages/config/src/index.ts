export { ApiConfig, apiVars } from './api-config.js';
export {
  type ApiToken,
  type ApiTokenLimits,
  type ApiTokenScope,
  envTokenName,
  loadApiTokens,
  parseApiTokensFile,
} from './api-tokens-file.js';
export { CliConfig, cliVars } from './cli-config.js';
export { CommonConfig, commonVars, DEFAULT_DATABASE_URL } from './common-config.js';
export { type EnvCheck, envSchema } from './env-schema.js';
export {
  boolVar,
  enumVar,
  intVar,
  listVar,
  numberVar,
  optionalUrlVar,
  optionalVar,
  type RangeOptions,
  stringVar,
  urlVar,
} from './env-vars.js';
export { ConfigError } from './errors.js';
export { DEFAULT_IMAGE_ALLOWLIST, isImageAllowed } from './image-allowlist.js';
export { type Env, type LoadEnvOptions, loadEnv } from './load-env.js';
export { type DeepReadonly, parseConfig } from './parse-config.js';
export { printableConfig } from './printable-config.js';
export { secretsFromEnv } from './secrets-from-env.js';
export { WorkerConfig, workerVars } from './worker-config.js';
