import type { StepEvent } from '@sandfleet/contracts';
import { Command } from 'commander';
import { followStep } from '../follow-step.js';
import { printEvents, printOutput } from '../print-events.js';
import { withContext } from '../with-context.js';

interface LogsOptions {
  follow?: boolean;
  since: string;
  json?: boolean;
  raw?: boolean;
}

/** `sandfleet logs [-f] <id>`: a step's output, replayed; with -f followed live until it ends. */
export function logsCommand(): Command {
  return new Command('logs')
    .description("print a step's output (replayed from Redis); -f follows it live until it ends")
    .argument('<id>', 'step id')
    .option('-f, --follow', 'follow live until the step finishes; exit with its exit code')
    .option('--since <seq>', 'start after this event seq', '0')
    .option('--json', 'print events as JSON lines')
    .option(
      '--raw',
      "print the step's terminal escapes as it wrote them (default: shown escaped, colours kept)",
    )
    .action((id: string, options: LogsOptions, command: Command) =>
      withContext(command, async (ctx) => {
        const steps = await ctx.steps();
        const afterSeq = Number.parseInt(options.since, 10) || 0;
        if (options.follow) return followStep(steps, id, afterSeq, options);
        const events = await steps.replay(id, afterSeq);
        if (events.length === 0) {
          const row = await steps.get(id);
          if (!row) throw new Error(`no step with id ${id}`);
          await printOutput(row.output, options); // events expired: fall back to the stored output
          return 0;
        }
        await printEvents(iterate(events), options);
        return 0;
      }),
    );
}

async function* iterate(items: StepEvent[]): AsyncIterable<StepEvent> {
  yield* items;
}
