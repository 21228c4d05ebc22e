import { SandfleetError } from '@sandfleet/contracts';
import { type Command, CommanderError } from 'commander';
import { type ApiOptions, CliContext } from './cli-context.js';

/** Error codes of bad input (exit 2), whichever way the command reached the fleet. */
const INPUT_ERROR_CODES = ['VALIDATION_FAILED', 'INVALID_CONFIG', 'INVALID_ARGUMENT', 'INVALID_CURSOR'];

/**
 * Runs a command body with a {@link CliContext} (built from the environment and the global
 * `--api`/`--token` options of `command`), closes it, and turns errors into a message on stderr
 * with exit code 1 (2 for invalid input). The body returns the exit code.
 */
export async function withContext(
  command: Command,
  body: (ctx: CliContext) => Promise<number>,
): Promise<void> {
  let ctx: CliContext | undefined;
  try {
    ctx = new CliContext(process.env, command.optsWithGlobals<ApiOptions>());
    process.exitCode = await body(ctx);
  } catch (error) {
    process.stderr.write(`sandfleet: ${describe(error, ctx)}\n`);
    process.exitCode = isInputError(error) ? 2 : 1;
  } finally {
    await ctx?.close();
  }
}

function describe(error: unknown, ctx: CliContext | undefined): string {
  if (!(error instanceof SandfleetError)) return error instanceof Error ? error.message : String(error);
  const text = `${error.message} [${error.code}]`;
  if (error.code === 'UNAUTHORIZED') {
    return `${text}\n  fix: set SANDFLEET_API_TOKEN (or --token) to one of the API's SANDFLEET_API_TOKENS`;
  }
  if (error.code === 'API_UNREACHABLE' && ctx?.api) {
    return `${text}\n  fix: start the API (sandfleet up, or sandfleet api), or point SANDFLEET_API_URL (or --api) at it`;
  }
  return text;
}

function isInputError(error: unknown): boolean {
  if (error instanceof CommanderError) return true;
  return error instanceof SandfleetError && INPUT_ERROR_CODES.includes(error.code);
}
