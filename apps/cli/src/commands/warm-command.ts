import { Command } from 'commander';
import { withContext } from '../with-context.js';

/** `sandfleet warm <agentId> [--image <image>]`: pre-start a container for the agent's next step. */
export function warmCommand(): Command {
  return new Command('warm')
    .description(
      "ask a worker to pre-start a container for an agent's next step (a hint: it warms only with a " +
        'warm pool and an agent-runtime image, for a next step with no other settings)',
    )
    .argument('<agentId>', 'agent id')
    .option(
      '--image <image>',
      "the image the agent's next step will name (default: the worker's default image)",
    )
    .action((agentId: string, options: { image?: string }, command: Command) =>
      withContext(command, async (ctx) => {
        const steps = await ctx.steps();
        const result = await steps.warm(agentId, options.image);
        process.stdout.write(
          `warm hint queued for agent ${result.agentId}${options.image === undefined ? '' : ` (${options.image})`}\n`,
        );
        return 0;
      }),
    );
}
