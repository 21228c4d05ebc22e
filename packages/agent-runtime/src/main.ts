import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AGENT_UID, RUNTIME_ENV } from '@sandfleet/contracts';
import { runAgentRuntime, runtimeLog } from './agent-runtime.js';
import { AGENT_WORK_ARG, serveAgentWork } from './agent-work.js';
import { parseStepEnv, takeRuntimeFile } from './runtime-file.js';

// The container's entry point (`sandfleet-agent-runtime <command…>`): the only place reading the
// process's argv, environment, streams and signals.
const argv = process.argv.slice(2);
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
  } = process.env;
  // Both files are root-only and deleted once read, before any step code runs.
  const eventToken = (tokenFile ? takeRuntimeFile(tokenFile)?.trim() : tokenVariable) || undefined;
  const stepEnv = stepEnvFile ? parseStepEnv(takeRuntimeFile(stepEnvFile)) : {};
  const root = process.getuid?.() === 0;
  const exitCode = await runAgentRuntime({
    argv,
    env: eventToken === undefined ? env : { ...env, [RUNTIME_ENV.eventToken]: eventToken },
    stepEnv,
    ...(root
      ? { agentUser: { uid: AGENT_UID, gid: AGENT_UID, mainPath: fileURLToPath(import.meta.url) } }
      : {}),
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
