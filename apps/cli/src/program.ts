import { Command } from 'commander';
import { cancelCommand } from './commands/cancel-command.js';
import { logsCommand } from './commands/logs-command.js';
import { migrateCommand } from './commands/migrate-command.js';
import { runCommand } from './commands/run-command.js';
import { statusCommand } from './commands/status-command.js';
import { workerCommand } from './commands/worker-command.js';

/** The `sandfleet` command with every subcommand. */
export function createProgram(): Command {
  const program = new Command('sandfleet')
    .description('Run AI-agent steps in isolated containers at fleet scale')
    .showHelpAfterError()
    .addCommand(runCommand())
    .addCommand(logsCommand())
    .addCommand(statusCommand())
    .addCommand(cancelCommand())
    .addCommand(workerCommand())
    .addCommand(migrateCommand());
  // Throw instead of exiting so main() can map usage errors to exit code 2.
  for (const command of [program, ...program.commands]) command.exitOverride();
  return program;
}
