import { tmpdir } from 'node:os';
import { runAgentRuntime } from './agent-runtime.js';
import { takeEventToken } from './event-token-file.js';

// The container's entry point (`sandfleet-agent-runtime <command…>`): the only place reading the
// process's argv, environment, streams and signals.
const argv = process.argv.slice(2);
const { SANDFLEET_EVENT_TOKEN_FILE: _file, SANDFLEET_EVENT_TOKEN: _token, ...env } = process.env;
const eventToken = takeEventToken(process.env);
const exitCode = await runAgentRuntime({
  argv,
  env: eventToken === undefined ? env : { ...env, SANDFLEET_EVENT_TOKEN: eventToken },
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
