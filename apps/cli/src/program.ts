import { Command, InvalidArgumentError, Option } from 'commander';
import { apiCommand } from './commands/api-command.js';
import { cancelCommand } from './commands/cancel-command.js';
import { doctorCommand } from './commands/doctor-command.js';
import { imageCommand } from './commands/image-command.js';
import { logsCommand } from './commands/logs-command.js';
import { lsCommand } from './commands/ls-command.js';
import { migrateCommand } from './commands/migrate-command.js';
import { runCommand } from './commands/run-command.js';
import { statusCommand } from './commands/status-command.js';
import { upCommand } from './commands/up-command.js';
import { warmCommand } from './commands/warm-command.js';
import { workerCommand } from './commands/worker-command.js';

function httpUrl(value: string): string {
  try {
    if (['http:', 'https:'].includes(new URL(value).protocol)) return value;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('must be an http:// or https:// URL');
}

/** The `sandfleet` command with every subcommand. */
export function createProgram(): Command {
  const program = new Command('sandfleet')
    .description('Run AI-agent steps in isolated containers at fleet scale')
    .addOption(
      new Option(
        '--api <url>',
        'talk to the Sandfleet API at this URL instead of Redis and PostgreSQL (run, logs, status, cancel, ls, warm); ' +
          'default: SANDFLEET_API_URL',
      ).argParser(httpUrl),
    )
    .option(
      '--token <token>',
      'bearer token for the API; default: SANDFLEET_API_TOKEN (prefer it: arguments show in ps)',
    )
    .showHelpAfterError()
    .addCommand(runCommand())
    .addCommand(logsCommand())
    .addCommand(statusCommand())
    .addCommand(cancelCommand())
    .addCommand(lsCommand())
    .addCommand(warmCommand())
    .addCommand(workerCommand())
    .addCommand(apiCommand())
    .addCommand(upCommand())
    .addCommand(migrateCommand())
    .addCommand(doctorCommand())
    .addCommand(imageCommand());
  for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    // Throw instead of exiting so main() can map usage errors to exit code 2.
    command.exitOverride();
    command.configureHelp({ showGlobalOptions: true });
  }
  return program;
}
