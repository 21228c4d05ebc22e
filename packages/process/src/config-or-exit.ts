import { EXIT_CODES } from './run-until-signal.js';

/**
 * The result of `parse` (a process's config), or `undefined` once its error is on stderr as
 * `sandfleet <name>: <message>` (a `ConfigError` lists every problem) and `process.exitCode` is 2.
 * For before a logger exists: the logger's level and redaction come from the config.
 */
export function configOrExit<T>(name: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    process.stderr.write(`sandfleet ${name}: ${(error as Error).message}\n`);
    process.exitCode = EXIT_CODES.invalidConfig;
    return undefined;
  }
}
