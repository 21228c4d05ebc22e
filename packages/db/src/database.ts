import type { StepCommand, StepFile, StepKind, StepStatus } from '@sandfleet/contracts';
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { JsonbText } from './pg-value.js';
import type { StoredStepSpec } from './stored-step-spec.js';

/** A `jsonb` column: read as `T`, written as JSON text made by `toJsonb`. */
type Jsonb<T> = ColumnType<T, JsonbText, JsonbText>;
/** A `jsonb` column with a default (`labels`). */
type GeneratedJsonb<T> = ColumnType<T, JsonbText | undefined, JsonbText>;
/** A nullable `jsonb` column (`result`). */
type NullableJsonb<T> = ColumnType<T | null, JsonbText | null | undefined, JsonbText | null>;
/** A nullable `timestamptz` column, read as a Date. */
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** A `timestamptz` column defaulting to `now()`. */
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/**
 * Table `steps`: one row per step id (public contract, docs/design.md). Column names are the SQL names;
 * repositories map rows to camelCase records.
 */
export interface StepsTable {
  id: string;
  agent_id: string;
  kind: ColumnType<StepKind, StepKind | undefined, StepKind>;
  status: StepStatus;
  image: string | null;
  /** Resolved image id the container ran (`sha256:…`). */
  image_id: string | null;
  command: Jsonb<StepCommand>;
  spec: Jsonb<StoredStepSpec>;
  run_id: string | null;
  task_id: string | null;
  chat_session_id: string | null;
  labels: GeneratedJsonb<Record<string, string>>;
  priority: number | null;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  worker_id: string | null;
  exit_code: number | null;
  oom_killed: Generated<boolean>;
  output: Generated<string>;
  /** `bigint` in SQL; each pool parses int8 to a JS number (byte counts fit in 2^53). */
  output_bytes: Generated<number>;
  output_truncated: Generated<boolean>;
  error: string | null;
  error_code: string | null;
  result: NullableJsonb<unknown>;
  cancel_requested_at: NullableTimestamp;
  created_at: GeneratedTimestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  duration_ms: number | null;
  updated_at: GeneratedTimestamp;
  /** File contents of a step that has not ended (for re-queueing it); null once it ends. */
  pending_files: NullableJsonb<StepFile[]>;
  /** Name of the API token that enqueued the step; null for raw-BullMQ producers. */
  producer: ColumnType<string | null, string | null | undefined, string | null>;
}

/** The Kysely schema of the Sandfleet database. */
/** Table `chat_messages`: the turns of chat sessions. */
export interface ChatMessagesTable {
  id: Generated<string>;
  session_id: string;
  agent_id: string;
  role: 'user' | 'assistant';
  content: string;
  step_id: string;
  created_at: Generated<Date>;
}

/** Table `chat_sessions`: the agent owning each chat session (the one that started it). */
export interface ChatSessionsTable {
  session_id: string;
  agent_id: string;
  created_at: Generated<Date>;
}

export interface Database {
  steps: StepsTable;
  chat_messages: ChatMessagesTable;
  chat_sessions: ChatSessionsTable;
}

export type StepRow = Selectable<StepsTable>;
export type NewStepRow = Insertable<StepsTable>;
export type StepRowUpdate = Updateable<StepsTable>;
