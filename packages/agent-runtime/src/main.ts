import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AGENT_UID, RUNTIME_ENV, RUNTIME_FAILURE_EXIT_CODE, RUNTIME_GATE_ARG } from '@sandfleet/contracts';
import { type EarlyPrepared, prepareEarly, runAgentRuntime, runtimeLog } from './agent-runtime.js';
import { AGENT_WORK_ARG, serveAgentWork } from './agent-work.js';
import { parseStepEnv, takeRuntimeFile } from './runtime-file.js';
import { openRuntimeGate } from './runtime-gate.js';

/** Where the worker's runtime files are (a warm container's gate writes them there). */
const RUNTIME_DIR = '/sandfleet';

// The container's entry point (`sandfleet-agent-runtime <command…>`): the only place reading the
// process's argv, environment, streams and signals.
let argv = process.argv.slice(2);
let processEnv = process.env;
const root = process.getuid?.() === 0;
const agentUser = { uid: AGENT_UID, gid: AGENT_UID, mainPath: fileURLToPath(import.meta.url) };
let preparedEarly: EarlyPrepared | undefined;
if (argv[0] === RUNTIME_GATE_ARG) {
  // A warm container: the step, its variables and its files arrive on stdin when it is assigned;
  // meanwhile the home is laid out, as it would be for a step without a workspace.
  if (root)
    preparedEarly = prepareEarly({ env: process.env, agentUser, stderr: process.stderr, tmpDir: tmpdir() });
  try {
    const gate = await openRuntimeGate(process.stdin, RUNTIME_DIR);
    argv = gate.argv;
    processEnv = { ...process.env, ...gate.env };
  } catch (error) {
    process.stderr.write(`sandfleet-agent-runtime: ${(error as Error).message}\n`);
    process.exit(RUNTIME_FAILURE_EXIT_CODE);
  }
}
if (argv[0] === AGENT_WORK_ARG) {
  // The runtime's own helper, started by it as the agent (see agent-work.ts).
  process.exitCode = await serveAgentWork({
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    signals: process,
    log: runtimeLog,
  });
} else {
  const {
    [RUNTIME_ENV.eventTokenFile]: tokenFile,
    [RUNTIME_ENV.eventToken]: tokenVariable,
    [RUNTIME_ENV.stepEnvFile]: stepEnvFile,
    ...env
  } = processEnv;
  // Both files are root-only and deleted once read, before any step code runs.
  const eventToken = (tokenFile ? takeRuntimeFile(tokenFile)?.trim() : tokenVariable) || undefined;
  const stepEnv = stepEnvFile ? parseStepEnv(takeRuntimeFile(stepEnvFile)) : {};
  const exitCode = await runAgentRuntime({
    argv,
    env: eventToken === undefined ? env : { ...env, [RUNTIME_ENV.eventToken]: eventToken },
    stepEnv,
    ...(root ? { agentUser } : {}),
    ...(preparedEarly === undefined ? {} : { preparedEarly }),
    stdout: process.stdout,
    stderr: process.stderr,
    signals: process,
    tmpDir: tmpdir(),
    interactive: argv.length === 0 && process.stdin.isTTY === true && process.stdout.isTTY === true,
  });
  process.exitCode = exitCode;
  // Exit once everything written to stdout is flushed, even if a process that escaped the command's
  // group still holds a handle open.
  process.stdout.write('', () => process.exit(exitCode));
}
