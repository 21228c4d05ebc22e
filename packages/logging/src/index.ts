export {
  type CreateLoggerOptions,
  createLogger,
  type LogDestination,
  type Logger,
  type LogLevel,
  REDACT_PATHS,
  redactLine,
  secretRegistryOf,
} from './create-logger.js';
export { flushLogger } from './flush-logger.js';
export { REDACTED, SecretRegistry, type SecretRegistryOptions } from './secret-registry.js';
export { type SecretScope, withSecrets } from './with-secrets.js';
