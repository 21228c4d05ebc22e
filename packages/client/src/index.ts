export type {
  CancelResult,
  CreateStepResult,
  CreateStepsResult,
  Readiness,
  StepListFilter,
  StepPage,
  StepRecord,
  StepSummary,
  WarmAgentResult,
} from './api-types.js';
export {
  DEFAULT_EVENT_IDLE_TIMEOUT_MS,
  DEFAULT_RECONNECT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ReconnectOptions,
  type SandfleetClientOptions,
} from './client-options.js';
export {
  ApiError,
  type ApiErrorOptions,
  type ClientErrorCode,
  type ContractSchema,
  errorFromAnswer,
  isApiError,
  parseAnswer,
  unreachable,
} from './errors.js';
export {
  type CallOptions,
  type CreateStepOptions,
  type EventsOptions,
  SandfleetClient,
  type WaitOptions,
  type WarmAgentOptions,
} from './sandfleet-client.js';
export {
  DEFAULT_SSE_MAX_BUFFER,
  type EventSourceMessage,
  type ReadSseOptions,
  readSseMessages,
} from './sse-messages.js';
export { followStepEvents, type StepEventStreamOptions, toStepEvent } from './step-event-stream.js';
