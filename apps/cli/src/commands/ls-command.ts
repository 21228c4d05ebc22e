import type { StepListFilter } from '@sandfleet/client';
import { StepStatus } from '@sandfleet/contracts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatStepTable } from '../step-table.js';
import { withContext } from '../with-context.js';
import { keyValues } from './option-parsers.js';

/** Largest page the API and the database give. */
const MAX_LIMIT = 500;

interface LsOptions {
  status?: StepStatus;
  agent?: string;
  run?: string;
  label?: string;
  limit?: number;
  cursor?: string;
  json?: boolean;
}

function pageSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new InvalidArgumentError(`must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

/** `sandfleet ls`: steps, newest first, one page at a time. */
export function lsCommand(): Command {
  return new Command('ls')
    .description('list steps, newest first: id, agent, status, exit code, created (UTC), duration')
    .addOption(new Option('--status <status>', 'only steps in this status').choices(StepStatus.options))
    .option('--agent <id>', 'only steps of this agent')
    .option('--run <id>', 'only steps of this pipeline run')
    .option('--label <key=value>', 'only steps carrying this label')
    .option('--limit <n>', `page size, 1 to ${MAX_LIMIT} (default 50)`, pageSize)
    .option('--cursor <cursor>', 'the next page, as printed after the previous one')
    .option('--json', 'print the page as JSON: { items, nextCursor }')
    .action((options: LsOptions, command: Command) =>
      withContext(command, async (ctx) => {
        const label =
          options.label === undefined ? undefined : Object.entries(keyValues([options.label], '--label'))[0];
        const filter: StepListFilter = {
          status: options.status,
          agentId: options.agent,
          runId: options.run,
          label: label && { key: label[0], value: label[1] },
          limit: options.limit,
          cursor: options.cursor,
        };
        const page = await (await ctx.steps()).list(filter);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
          return 0;
        }
        if (page.items.length === 0) process.stderr.write('no steps\n');
        else process.stdout.write(formatStepTable(page.items));
        if (page.nextCursor) {
          process.stderr.write(`more: sandfleet ls ${nextPageArgs(options, page.nextCursor)}\n`);
        }
        return 0;
      }),
    );
}

/** The arguments of the same listing's next page. */
function nextPageArgs(options: LsOptions, cursor: string): string {
  const args: string[] = [];
  if (options.status) args.push('--status', options.status);
  if (options.agent) args.push('--agent', options.agent);
  if (options.run) args.push('--run', options.run);
  if (options.label) args.push('--label', quote(options.label));
  if (options.limit) args.push('--limit', String(options.limit));
  args.push('--cursor', quote(cursor));
  return args.join(' ');
}

function quote(text: string): string {
  return /^[\w.:=/+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
