// The runtime's own API; the protocol it speaks (event sequences, limits, the `result` and event
// schemas, the environment's names) is `@sandfleet/contracts`' runtime-protocol.
export {
  type AgentRuntimeOptions,
  type AgentUser,
  DEFAULT_COMMAND,
  runAgentRuntime,
} from './agent-runtime.js';
export { RuntimeError } from './errors.js';
export { fitResult } from './event-writer.js';
export { HARDENED_GIT_ARGS, SAFE_PATH } from './git.js';
export { GIT_USER_EMAIL, GIT_USER_NAME } from './git-refs.js';
export { OutputEscaper } from './output-escaper.js';
export { MAX_RESULT_BYTES } from './result-file.js';
export { DEFAULT_GIT_TOKEN_ENV, parseRuntimeEnv, type RuntimeEnv } from './runtime-env.js';
