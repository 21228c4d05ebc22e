import { readFileSync } from 'node:fs';
import type { StepSpecInput } from '@sandfleet/contracts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { followStep } from '../follow-step.js';
import { withContext } from '../with-context.js';
import { collect, keyValues, positiveInt } from './option-parsers.js';

interface RunOptions {
  agent?: string;
  id?: string;
  image?: string;
  kind?: string;
  script?: string;
  shell?: string;
  input?: string;
  inputFile?: string;
  env: string[];
  secret: string[];
  label: string[];
  file: string[];
  timeout?: number;
  memory?: number;
  cpus?: number;
  pids?: number;
  outputBytes?: number;
  network?: 'none' | 'egress';
  attempts?: number;
  priority?: number;
  detach?: boolean;
  json?: boolean;
  verbose?: boolean;
  raw?: boolean;
}

/**
 * `sandfleet run [options] -- <command...>`: enqueue a step and stream it, exiting with its exit code;
 * through the API when one is configured, else on Redis and PostgreSQL.
 */
export function runCommand(): Command {
  return new Command('run')
    .description('run a step: enqueue it, stream its output live, exit with its exit code')
    .argument('[command...]', 'argv of the step (after --)')
    .option('-a, --agent <id>', 'agent id (default: SANDFLEET_AGENT_ID or "default")')
    .option('--id <id>', 'step id; the same id twice is one step')
    .option('-i, --image <image>', 'image (must be in the worker allowlist)')
    .addOption(new Option('--kind <kind>', 'workspace layout').choices(['task', 'pipeline', 'pulse', 'chat']))
    .option('-s, --script <script>', 'run a shell script instead of an argv')
    .option('--shell <shell>', 'shell for --script', 'sh')
    .option('--input <text>', 'input handed to the step')
    .option('--input-file <path>', 'read the input from a file')
    .option('-e, --env <KEY=VALUE>', 'environment variable (repeatable)', collect, [])
    .option('--secret <NAME>', "secret injected from the worker's secret source (repeatable)", collect, [])
    .option('-l, --label <key=value>', 'label (repeatable)', collect, [])
    .option(
      '-f, --file <path=local>',
      'write a local file under /home/agent before start (repeatable)',
      collect,
      [],
    )
    .option('--timeout <ms>', 'wall-clock timeout, ms', positiveInt)
    .option('--memory <mb>', 'memory limit, MiB', positiveInt)
    .option('--cpus <n>', 'CPU share, cores', Number.parseFloat)
    .option('--pids <n>', 'process limit', positiveInt)
    .option('--output-bytes <n>', 'output kept before truncation, bytes', positiveInt)
    .addOption(new Option('--network <mode>', 'network of the container').choices(['none', 'egress']))
    .option('--attempts <n>', 'attempts on infrastructure failures', positiveInt)
    .option('--priority <n>', 'queue priority (1 is highest)', positiveInt)
    .option('-d, --detach', 'print the step id and return at once')
    .option('--json', 'print events as JSON lines')
    .option('-v, --verbose', 'print status changes')
    .option(
      '--raw',
      "print the step's terminal escapes as it wrote them (default: shown escaped, colours kept)",
    )
    .action((argv: string[], options: RunOptions, command: Command) =>
      withContext(command, async (ctx) => {
        const spec = buildSpec(argv, options, ctx.config.agentId);
        const steps = await ctx.steps();
        const { id } = await steps.enqueue(spec);
        if (options.detach) {
          process.stdout.write(`${id}\n`);
          return 0;
        }
        // Following replays from the first event, so nothing the step printed so far is missed.
        return followStep(steps, id, 0, options);
      }),
    );
}

function buildSpec(argv: string[], options: RunOptions, defaultAgent: string): StepSpecInput {
  if (options.script === undefined && argv.length === 0) {
    throw new InvalidArgumentError('nothing to run: give a command after -- or --script');
  }
  const input = options.inputFile !== undefined ? readFileSync(options.inputFile, 'utf8') : options.input;
  return {
    id: options.id,
    agentId: options.agent ?? defaultAgent,
    kind: options.kind as StepSpecInput['kind'],
    image: options.image,
    command: options.script !== undefined ? { script: options.script, shell: options.shell } : argv,
    input,
    env: keyValues(options.env, '--env'),
    secrets: options.secret,
    labels: keyValues(options.label, '--label'),
    files: Object.entries(keyValues(options.file, '--file')).map(([path, local]) => ({
      path,
      content: readFileSync(local).toString('base64'),
      encoding: 'base64' as const,
    })),
    limits: {
      timeoutMs: options.timeout,
      memoryMb: options.memory,
      cpus: options.cpus,
      pids: options.pids,
      outputBytes: options.outputBytes,
    },
    network: options.network,
    attempts: options.attempts,
    priority: options.priority,
  };
}
