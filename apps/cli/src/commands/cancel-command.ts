import { Command } from 'commander';
import { withContext } from '../with-context.js';

/** `sandfleet cancel <id>`: stop a running step or take a queued one out of the queue. */
export function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel a step: a queued one is removed, a running one is stopped (SIGTERM, grace, SIGKILL)')
    .argument('<id>', 'step id')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, async (ctx) => {
        const steps = await ctx.steps();
        const result = await steps.cancel(id);
        if (!result.accepted) {
          process.stdout.write(`step ${id} already ended: ${result.status}\n`);
          return 0;
        }
        process.stdout.write(
          result.status === 'cancelled'
            ? `step ${id} cancelled\n`
            : `cancel requested for step ${id} (${result.status})\n`,
        );
        return 0;
      }),
    );
}
