import pino from 'pino';
import { REDACTED, SecretRegistry } from './secret-registry.js';

/** A Sandfleet logger (pino), so other packages need not import pino. */
export type Logger = pino.Logger;
/** pino levels, plus `silent`. */
export type LogLevel = pino.LevelWithSilent;
/** Where log lines go: anything with `write(line)`. */
export type LogDestination = pino.DestinationStream;

const SENSITIVE_KEYS = [
  'password',
  'passwd',
  'token',
  'accessToken',
  'refreshToken',
  'apiToken',
  'apiKey',
  'secret',
  'clientSecret',
  'authorization',
  'cookie',
  'env',
] as const;

/**
 * Paths pino censors to `***` whatever their value: each sensitive key at the top level and up to
 * two levels down (`token`, `job.token`, `job.data.token`), the values of any `secrets` map (a
 * StepSpec's secret names included), HTTP auth headers, and `env`, which may carry credentials.
 */
export const REDACT_PATHS: readonly string[] = [
  ...SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  'secrets.*',
  '*.secrets.*',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

// `scheme://user:password@host`: the password of any URL in a line, e.g. a logged database URL.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/"]*:)[^\s@/"]+@/gi;

/** `line` with registered secret values and URL passwords replaced by `***`. */
export function redactLine(line: string, registry: SecretRegistry): string {
  return registry.redact(line).replace(URL_PASSWORD, `$1${REDACTED}@`);
}

const REGISTRY = Symbol('sandfleet.secretRegistry');
type WithRegistry = Logger & { [REGISTRY]?: SecretRegistry };

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Component name, logged as `name` on every line (`worker`, `api`, `cli`). */
  name: string;
  /** Minimum level logged. @defaultValue `'info'` */
  level?: LogLevel;
  /** Secret values never to print, for the logger's whole life (e.g. the worker's secret source). */
  secrets?: Iterable<string>;
  /** Registry to consult, e.g. one shared with output redaction. @defaultValue a new one */
  registry?: SecretRegistry;
  /** Extra paths to censor, in pino `redact` syntax, added to {@link REDACT_PATHS}. */
  redactPaths?: readonly string[];
  /** Where lines go. @defaultValue stdout */
  destination?: LogDestination;
}

/**
 * Creates a root logger: JSON lines with an ISO time, level label and `name`.
 *
 * Two layers keep secrets out of its output. pino censors {@link REDACT_PATHS} (and
 * `redactPaths`) in logged objects; then every finished line, children's included, is passed
 * through the {@link SecretRegistry}, which blanks registered secret values wherever they appear
 * (messages, error stacks, nested fields), and URL passwords are masked. Add step secrets with
 * {@link withSecrets}.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const registry = options.registry ?? new SecretRegistry();
  if (options.secrets) registry.add(options.secrets);
  const pinoOptions: pino.LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS, ...(options.redactPaths ?? [])], censor: REDACTED },
    // Children inherit hooks, so one hook covers every logger derived from this one.
    hooks: { streamWrite: (line) => redactLine(line, registry) },
  };
  const logger: WithRegistry = options.destination
    ? pino(pinoOptions, options.destination)
    : pino(pinoOptions);
  // pino children are created with Object.create(parent), so they see this property too.
  logger[REGISTRY] = registry;
  return logger;
}

/** The registry the root of `logger` redacts with. Throws for a logger not made by createLogger. */
export function secretRegistryOf(logger: Logger): SecretRegistry {
  const registry = (logger as WithRegistry)[REGISTRY];
  if (!registry) throw new TypeError('logger was not created by @sandfleet/logging createLogger');
  return registry;
}
