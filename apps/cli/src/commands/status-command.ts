import type { StepRecord } from '@sandfleet/client';
import { Command } from 'commander';
import { escapeControls } from '../control-escaper.js';
import { withContext } from '../with-context.js';

/** `sandfleet status <id> [--json]`: a step's recorded state. */
export function statusCommand(): Command {
  return new Command('status')
    .description("show a step's recorded status, exit code, timings and error")
    .argument('<id>', 'step id')
    .option('--json', 'print the whole row as JSON (output included)')
    .action((id: string, options: { json?: boolean }, command: Command) =>
      withContext(command, async (ctx) => {
        const steps = await ctx.steps();
        const row = await steps.get(id);
        if (!row) {
          process.stderr.write(`sandfleet: no step with id ${id}\n`);
          return 1;
        }
        process.stdout.write(options.json ? `${JSON.stringify(row, null, 2)}\n` : describeStep(row));
        return 0;
      }),
    );
}

function describeStep(row: StepRecord): string {
  const lines: [string, unknown][] = [
    ['id', row.id],
    ['agent', row.agentId],
    ['status', row.status],
    ['exit code', row.exitCode],
    ['attempts', row.attempts],
    ['worker', row.workerId],
    ['image', row.image],
    ['created', row.createdAt],
    ['started', row.startedAt],
    ['finished', row.finishedAt],
    ['duration', row.durationMs === null ? null : `${row.durationMs} ms`],
    ['oom killed', row.oomKilled || null],
    ['output', `${row.outputBytes} bytes${row.outputTruncated ? ' (truncated)' : ''}`],
    ['error', row.error],
  ];
  return lines
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${key.padEnd(10)} ${escapeControls(String(value))}\n`)
    .join('');
}
