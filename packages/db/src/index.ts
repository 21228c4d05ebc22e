export {
  type ChatMessageRecord,
  ChatRepository,
  type ChatRepositoryOptions,
  type NewChatMessage,
} from './chat-repository.js';
export type {
  ChatMessagesTable,
  ChatSessionsTable,
  Database,
  NewStepRow,
  StepRow,
  StepRowUpdate,
  StepsTable,
} from './database.js';
export {
  type DatabaseConfig,
  type DatabaseOptions,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_SCHEMA,
  SCHEMA_NAME_PATTERN,
} from './database-options.js';
export {
  DbError,
  type DbErrorCode,
  type DbErrorOptions,
  isConnectionError,
} from './errors.js';
export {
  createDatabase,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  type MigrateResult,
  SandfleetDatabase,
} from './sandfleet-database.js';
export {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  type StepListFilter,
  type StepPage,
} from './step-list-filter.js';
export type { StepRecord, StepSummary } from './step-record.js';
export {
  type MarkFinishedInput,
  type MarkQueuedInput,
  type MarkRunningInput,
  type NewStep,
  type RecordRejectedInput,
  StepRepository,
  type StepRepositoryOptions,
  type StepState,
  type UnchangedStep,
  type UnchangedStepsQuery,
} from './step-repository.js';
export type { StoredStepFile, StoredStepSpec } from './stored-step-spec.js';
