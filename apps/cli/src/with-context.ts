import { SandfleetError } from '@sandfleet/contracts';
import { CommanderError } from 'commander';
import { CliContext } from './cli-context.js';

/**
 * Runs a command body with a {@link CliContext}, closes it, and turns errors into a message on
 * stderr with exit code 1 (2 for invalid input). The body returns the exit code.
 */
export async function withContext(body: (ctx: CliContext) => Promise<number>): Promise<void> {
  let ctx: CliContext | undefined;
  try {
    ctx = new CliContext(process.env);
    process.exitCode = await body(ctx);
  } catch (error) {
    process.stderr.write(`sandfleet: ${describe(error)}\n`);
    process.exitCode = isInputError(error) ? 2 : 1;
  } finally {
    await ctx?.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof SandfleetError) return `${error.message} [${error.code}]`;
  return error instanceof Error ? error.message : String(error);
}

function isInputError(error: unknown): boolean {
  if (error instanceof CommanderError) return true;
  return (
    error instanceof SandfleetError &&
    ['VALIDATION_FAILED', 'INVALID_CONFIG', 'INVALID_ARGUMENT'].includes(error.code)
  );
}
