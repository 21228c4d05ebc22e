export { ERROR_CODES, type ErrorCode, isErrorCode } from './error-codes.js';
export {
  type ErrorContext,
  type FieldIssue,
  formatIssue,
  SandfleetError,
  type SandfleetErrorOptions,
  ValidationError,
} from './errors.js';
export {
  API_TOKEN_NAME_PATTERN,
  API_TOKEN_TEXT_PATTERN,
  ApiTokenEntry,
  ApiTokenQuotas,
  ApiTokensFile,
  DEFAULT_TOKEN_QUOTAS,
  SCOPE_GLOB_PATTERN,
} from './http/api-tokens.js';
export { ChatMessageList, ChatMessageView } from './http/chat-message-view.js';
export { ErrorBody } from './http/error-body.js';
export { CheckResult, LivenessView, ReadinessChecks, ReadinessView } from './http/health-view.js';
export { httpJsonSchema } from './http/http-json-schema.js';
export { CancelResultView, EnqueueResultView } from './http/step-answers.js';
export {
  DEFAULT_BATCH_MAX_STEPS,
  StepBatchItemError,
  StepBatchItemResult,
  StepBatchRequest,
  StepBatchResult,
  stepBatchItemError,
} from './http/step-batch.js';
export { StepListPage } from './http/step-list-page.js';
export {
  STEP_INSTANT_FIELDS,
  type StepInstantField,
  StepSummaryView,
  StepView,
  type WithStepDates,
} from './http/step-view.js';
export { STEP_SPEC_SCHEMA_ID, stepSpecJsonSchema } from './json-schema.js';
export { CancelMessage, StepJobResult, WorkerHeartbeat } from './messages.js';
export {
  DEFAULT_FLEET_NAMES,
  type FleetNames,
  fleetNames,
  fleetPrefixProblem,
  JOB_NAME,
  LABELS,
  QUEUE_NAME,
  QUEUE_PREFIX,
  RESERVED_PREFIX_PARTS,
  RESERVED_REDIS_SEGMENTS,
} from './names.js';
export { parseOrThrow, toFieldIssues } from './parse.js';
export {
  MAX_RUNTIME_GATE_BYTES,
  RUNTIME_GATE_ARG,
  RuntimeGateFile,
  RuntimeGateMessage,
} from './runtime-gate.js';
export {
  AGENT_UID,
  CHAT_HISTORY_FILE,
  ChatMessage,
  EVENT_TOKEN_FILE,
  encodeRuntimeEvent,
  GitCommit,
  GitPush,
  HOME_SKELETON_LABEL,
  HOME_SKELETON_LABEL_VALUE,
  MAX_CHAT_REPLY_BYTES,
  MAX_RUNTIME_EVENT_BYTES,
  MAX_RUNTIME_SEQUENCE_BYTES,
  RUNTIME_ENV,
  RUNTIME_EVENT_END,
  RUNTIME_EVENT_ESCAPE,
  RUNTIME_EVENT_PREFIX,
  RUNTIME_FAILURE_EXIT_CODE,
  RUNTIME_IMAGE_LABEL,
  RUNTIME_IMAGE_LABEL_VALUE,
  RuntimeErrorCode,
  RuntimeEventData,
  type RuntimeEventMap,
  type RuntimeEventName,
  RuntimeMessage,
  RuntimeResult,
  RuntimeWorkspace,
  STEP_ENV_FILE,
  WorkspaceReady,
} from './runtime-protocol.js';
export {
  DEFAULT_TEAM,
  inSharedVault,
  SHARED_VAULT_HOME_PATH,
  StepSharedVault,
  TEAM_PATTERN,
  TeamName,
  VaultAccess,
} from './shared-vault.js';
export {
  commandArgv,
  MAX_COMMAND_ARGS,
  MAX_SCRIPT_BYTES,
  SHELL_PATTERN,
  StepCommand,
  StepScript,
} from './step-command.js';
export {
  EgressEvent,
  FinishedEvent,
  OutputEvent,
  OutputStream,
  RuntimeEvent,
  StatusEvent,
  StepEvent,
  type StepEventBody,
  TruncatedEvent,
} from './step-event.js';
export {
  BASE64_PATTERN,
  fileContentBytes,
  HOME_PATH_PATTERN,
  homePathProblem,
  MAX_FILE_BYTES,
  MAX_FILES,
  MAX_FILES_TOTAL_BYTES,
  MAX_HOME_PATH_LENGTH,
  StepFile,
} from './step-file.js';
export {
  AGENT_ID_PATTERN,
  AgentId,
  ENV_NAME_PATTERN,
  hasUrlCredentials,
  ID_PATTERN,
  IMAGE_PATTERN,
  LABEL_KEY_PATTERN,
  LIMIT_BOUNDS,
  MAX_ENV_VARS,
  MAX_INPUT_BYTES,
  MAX_LABELS,
  MAX_SECRETS,
  SECRET_NAME_PATTERN,
  StepImage,
  StepKind,
  StepLimits,
  StepNetwork,
  StepSpec,
  type StepSpecInput,
  StepWorkspace,
} from './step-spec.js';
export {
  assertNever,
  isTerminalStatus,
  StepStatus,
  TERMINAL_STATUSES,
  TerminalStatus,
} from './step-status.js';
export {
  WARM_HINT_JOB_NAME,
  WARM_HINT_QUEUE_SUFFIX,
  WarmHint,
  WarmHintAcceptedView,
  WarmHintBody,
  warmHintQueueName,
} from './warm-hint.js';
