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
export { BASE64_LINE_COLUMNS, MIN_ENCODED_FORM_LENGTH, secretForms } from './secret-forms.js';
export { REDACTED, SecretRegistry, type SecretRegistryOptions } from './secret-registry.js';
export { maskUrlCredentials, maskUrlCredentialsIn } from './url-credentials.js';
export { type SecretScope, withSecrets } from './with-secrets.js';
