export {
  type AgentRuntimeOptions,
  type AgentUser,
  DEFAULT_COMMAND,
  MAX_REPLY_BYTES,
  runAgentRuntime,
} from './agent-runtime.js';
export { RUNTIME_FAILURE_EXIT_CODE, RuntimeError, type RuntimeErrorCode } from './errors.js';
export {
  type CommitInfo,
  EVENT_SEQUENCE_END,
  EVENT_SEQUENCE_PREFIX,
  encodeRuntimeEvent,
  fitResult,
  MAX_EVENT_BYTES,
  type ResultData,
  type RuntimeEventMap,
  type RuntimeEventName,
} from './event-writer.js';
export { HARDENED_GIT_ARGS, SAFE_PATH } from './git.js';
export { GIT_USER_EMAIL, GIT_USER_NAME } from './git-refs.js';
export { OutputEscaper } from './output-escaper.js';
export { MAX_RESULT_BYTES } from './result-file.js';
export {
  DEFAULT_GIT_TOKEN_ENV,
  parseRuntimeEnv,
  type RuntimeEnv,
  type StepKind,
  type WorkspaceSpec,
} from './runtime-env.js';
