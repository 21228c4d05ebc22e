import {
  type ErrorContext,
  isTerminalStatus,
  StepKind,
  type StepSpec,
  StepStatus,
  TERMINAL_STATUSES,
  type TerminalStatus,
} from '@sandfleet/contracts';
import { type Kysely, sql, type UpdateObject } from 'kysely';
import type { Database, NewStepRow, StepRow } from './database.js';
import { DbError, toDbError } from './errors.js';
import { type JsonbText, toJsonb, toPgText } from './pg-value.js';
import { decodeStepCursor, encodeStepCursor } from './step-cursor.js';
import { globToLike, resolveLimit, type StepListFilter, type StepPage } from './step-list-filter.js';
import { STEP_SUMMARY_COLUMNS, type StepRecord, toStepRecord, toStepSummary } from './step-record.js';
import { restoreStepSpec, toStoredStepSpec } from './stored-step-spec.js';

/** A step accepted for queueing. */
export interface NewStep {
  id: string;
  /** The validated spec; its `id`, when set, must equal `id`. */
  spec: StepSpec;
  /** @defaultValue `spec.attempts` */
  maxAttempts?: number;
  /** Name of the API token enqueueing it. @defaultValue null (a raw-BullMQ producer) */
  producer?: string | null;
}

/** What {@link StepRepository.getStates} tells of a step. */
export interface StepState {
  agentId: string;
  status: StepStatus;
}

export interface MarkRunningInput {
  id: string;
  workerId: string;
  /**
   * The queue's 1-based attempt number. When given, `attempts` becomes max(attempts, attempt),
   * so a redelivered attempt is not counted twice; without it `attempts` is incremented.
   */
  attempt?: number;
}

/** The outcome of a step. Fields left undefined keep their stored value. */
export interface MarkFinishedInput {
  id: string;
  status: TerminalStatus;
  exitCode?: number | null;
  /** Captured output, already capped by the caller; NUL characters are stored as U+FFFD. */
  output?: string;
  /** @defaultValue the UTF-8 size of `output`, when `output` is given */
  outputBytes?: number;
  outputTruncated?: boolean;
  oomKilled?: boolean;
  error?: string | null;
  errorCode?: string | null;
  result?: unknown;
  imageId?: string | null;
  /**
   * The attempt recording it (the row's `attempts` when that attempt started): the outcome is
   * written only while no later attempt has started, so a stale attempt records nothing.
   */
  attempt?: number;
}

/** A job whose data is not a valid StepSpec: recorded as `error` so it has a row and an outcome. */
export interface RecordRejectedInput {
  id: string;
  /** The job data as received; kept (up to 64 KiB of JSON) for diagnosis, file contents removed. */
  data: unknown;
  error: string;
  errorCode: string;
}

/** Most JSON of a rejected job's data kept in `spec`. */
const MAX_REJECTED_SPEC_CHARS = 64 * 1024;

/** Which steps {@link StepRepository.listUnchangedSince} returns. */
export interface UnchangedStepsQuery {
  status: 'queued' | 'running';
  updatedBefore: Date;
  /** @defaultValue 100 */
  limit?: number;
}

/** A step that has not changed for a while, with its whole spec when it can be queued again. */
export interface UnchangedStep {
  record: StepRecord;
  /** Undefined when PostgreSQL no longer holds everything the step needs (its file contents). */
  spec?: StepSpec & { id: string };
}

export interface MarkQueuedInput {
  id: string;
  /** Why the step went back to the queue; undefined keeps the stored error. */
  error?: string | null;
  /** The attempt handing it back: a no-op once a later attempt has started (see `MarkFinishedInput`). */
  attempt?: number;
  /** Only a step in this status is put back (the reconciler's `running`). */
  fromStatus?: 'running';
}

export interface StepRepositoryOptions {
  db: Kysely<Database>;
  /** Makes calls fail with `DATABASE_CLOSED` once the owner closed the pool. */
  isClosed?: () => boolean;
}

// Microseconds matter: keyset pagination must compare created_at exactly as stored.
const CURSOR_CREATED_AT = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
// int overflows after 24.8 days; a step cancelled after waiting longer must still finish.
const durationMs = (table?: 'steps') => {
  const started = sql.ref(table ? `${table}.started_at` : 'started_at');
  const created = sql.ref(table ? `${table}.created_at` : 'created_at');
  return sql<number>`least(greatest(round(extract(epoch from now() - coalesce(${started}, ${created})) * 1000), 0), 2147483647)::integer`;
};
const DURATION_MS = durationMs();

function invalidArgument(message: string, context: ErrorContext): DbError {
  return new DbError('INVALID_ARGUMENT', message, { context });
}

function isInt32(value: number): boolean {
  return Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647;
}

function jsonb(value: unknown, what: string, context: ErrorContext): JsonbText {
  const text = toJsonb(value);
  if (text === null) throw invalidArgument(`${what} has no JSON form`, context);
  return text;
}

/** Rows of one multi-row INSERT of {@link StepRepository.insertQueuedMany} (15 parameters each). */
const INSERT_CHUNK_ROWS = 1000;

/** The `queued` row of `step`. @throws DbError `INVALID_ARGUMENT` naming the step. */
function queuedRow(step: NewStep): NewStepRow {
  const { id, spec } = step;
  const context = { stepId: id, agentId: spec.agentId };
  if (spec.id !== undefined && spec.id !== id) throw invalidArgument('spec.id differs from id', context);
  const maxAttempts = step.maxAttempts ?? spec.attempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw invalidArgument('maxAttempts must be a positive integer', context);
  }
  return {
    id,
    agent_id: spec.agentId,
    kind: spec.kind,
    status: 'queued',
    image: spec.image ?? null,
    command: jsonb(spec.command, 'command', context),
    spec: jsonb(toStoredStepSpec({ ...spec, id }), 'spec', context),
    run_id: spec.runId ?? null,
    task_id: spec.taskId ?? null,
    chat_session_id: spec.chatSessionId ?? null,
    labels: jsonb(spec.labels, 'labels', context),
    priority: spec.priority ?? null,
    max_attempts: maxAttempts,
    pending_files: spec.files.length === 0 ? null : jsonb(spec.files, 'files', context),
    producer: step.producer ?? null,
  };
}

/**
 * Rows of table `steps`. State changes are single conditional UPDATEs, so concurrent workers and
 * API calls cannot move a step out of a terminal status, and exactly one terminal transition wins.
 * Every failure is a {@link DbError}.
 */
export class StepRepository {
  readonly #db: Kysely<Database>;
  readonly #isClosed: () => boolean;

  constructor(options: StepRepositoryOptions) {
    this.#db = options.db;
    this.#isClosed = options.isClosed ?? (() => false);
  }

  /** Records a queued step. Idempotent: a second insert of the same id changes nothing. */
  async insertQueued(step: NewStep): Promise<{ inserted: boolean }> {
    const row = queuedRow(step);
    return this.#run({ stepId: step.id, agentId: step.spec.agentId }, async () => {
      const rows = await this.#db
        .insertInto('steps')
        .values(row)
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returning('id')
        .execute();
      return { inserted: rows.length > 0 };
    });
  }

  /**
   * Records many queued steps in one transaction (one multi-row INSERT per
   * {@link INSERT_CHUNK_ROWS} rows), each idempotent as {@link insertQueued}: an id already
   * recorded (or twice in `steps`: the first wins) changes nothing. Returns the ids it inserted.
   * @throws DbError `INVALID_ARGUMENT` (nothing is written) when a step is invalid, naming it.
   */
  async insertQueuedMany(steps: readonly NewStep[]): Promise<string[]> {
    const rows = steps.map(queuedRow);
    if (rows.length === 0) return [];
    const insert = async (db: Kysely<Database>, chunk: readonly NewStepRow[]) => {
      const inserted = await db
        .insertInto('steps')
        .values(chunk)
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returning('id')
        .execute();
      return inserted.map((row) => row.id);
    };
    return this.#run({ steps: rows.length }, async () => {
      // One statement is a transaction of its own; several share one.
      if (rows.length <= INSERT_CHUNK_ROWS) return insert(this.#db, rows);
      return this.#db.transaction().execute(async (trx) => {
        const ids: string[] = [];
        for (let at = 0; at < rows.length; at += INSERT_CHUNK_ROWS)
          ids.push(...(await insert(trx, rows.slice(at, at + INSERT_CHUNK_ROWS))));
        return ids;
      });
    });
  }

  /**
   * Deletes a step that never started (`queued`, no attempt): the undo of {@link insertQueued}
   * when its job could not be added. Returns whether a row was deleted.
   */
  async deleteQueued(id: string): Promise<boolean> {
    return (await this.deleteQueuedMany([id])).length > 0;
  }

  /** {@link deleteQueued} of many steps in one statement; returns the ids it deleted. */
  async deleteQueuedMany(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.#run(ids.length === 1 ? { stepId: ids[0] } : { steps: ids.length }, async () => {
      const rows = await this.#db
        .deleteFrom('steps')
        .where('id', 'in', ids)
        .where('status', '=', 'queued')
        .where('attempts', '=', 0)
        .returning('id')
        .execute();
      return rows.map((row) => row.id);
    });
  }

  /** The agent and status of each of `ids` that has a row, by id, in one query. */
  async getStates(ids: readonly string[]): Promise<Map<string, StepState>> {
    if (ids.length === 0) return new Map();
    return this.#run({ steps: ids.length }, async () => {
      const rows = await this.#db
        .selectFrom('steps')
        .select(['id', 'agent_id', 'status'])
        .where('id', 'in', ids)
        .execute();
      return new Map(rows.map((row) => [row.id, { agentId: row.agent_id, status: row.status }]));
    });
  }

  /**
   * Marks a non-terminal step running on `workerId` and counts the attempt; keeps the first
   * `started_at`. Returns the updated row (check its `cancelRequestedAt`), or undefined when the
   * step is terminal or missing.
   */
  async markRunning(input: MarkRunningInput): Promise<StepRecord | undefined> {
    const { id, workerId, attempt } = input;
    const context = { stepId: id, workerId };
    if (attempt !== undefined && (!Number.isInteger(attempt) || attempt < 1)) {
      throw invalidArgument('attempt must be a positive integer', context);
    }
    return this.#run(context, async () => {
      const row = await this.#updateUnlessTerminal(
        id,
        {},
        {
          status: 'running',
          attempts:
            attempt === undefined ? sql<number>`attempts + 1` : sql<number>`greatest(attempts, ${attempt})`,
          worker_id: workerId,
          started_at: sql<Date>`coalesce(started_at, now())`,
          updated_at: sql<Date>`now()`,
        },
      );
      return row && toStepRecord(row);
    });
  }

  /**
   * Records the outcome, only if the step is not terminal yet: of concurrent calls exactly one
   * makes the transition and gets the row; the others get undefined, as does a missing step.
   * Sets `finished_at` and `duration_ms` (from `started_at`, or `created_at` if it never started).
   */
  async markFinished(input: MarkFinishedInput): Promise<StepRecord | undefined> {
    const { id, output, outputBytes } = input;
    const context = { stepId: id };
    if (!isTerminalStatus(input.status)) throw invalidArgument('status must be terminal', context);
    if (input.exitCode != null && !isInt32(input.exitCode)) {
      throw invalidArgument('exitCode must be a 32-bit integer', context);
    }
    if (outputBytes !== undefined && (!Number.isSafeInteger(outputBytes) || outputBytes < 0)) {
      throw invalidArgument('outputBytes must be a non-negative integer', context);
    }
    const bytes = outputBytes ?? (output === undefined ? undefined : Buffer.byteLength(output, 'utf8'));
    const result = input.result === undefined ? undefined : toJsonb(input.result);
    return this.#run(context, async () => {
      const row = await this.#updateUnlessTerminal(
        id,
        { attempt: input.attempt },
        {
          status: input.status,
          ...(input.exitCode === undefined ? {} : { exit_code: input.exitCode }),
          ...(output === undefined ? {} : { output: toPgText(output) }),
          ...(bytes === undefined ? {} : { output_bytes: bytes }),
          ...(input.outputTruncated === undefined ? {} : { output_truncated: input.outputTruncated }),
          ...(input.oomKilled === undefined ? {} : { oom_killed: input.oomKilled }),
          ...(input.error === undefined
            ? {}
            : { error: input.error === null ? null : toPgText(input.error) }),
          ...(input.errorCode === undefined ? {} : { error_code: input.errorCode }),
          ...(result === undefined ? {} : { result }),
          ...(input.imageId === undefined ? {} : { image_id: input.imageId }),
          pending_files: null,
          finished_at: sql<Date>`now()`,
          duration_ms: DURATION_MS,
          updated_at: sql<Date>`now()`,
        },
      );
      return row && toStepRecord(row);
    });
  }

  /**
   * Records a rejected job as a finished `error` step: inserts the row when the producer never
   * wrote one, or ends a non-terminal row. Returns the row when this call made the transition.
   */
  async recordRejected(input: RecordRejectedInput): Promise<StepRecord | undefined> {
    const { id } = input;
    const data = (typeof input.data === 'object' && input.data !== null ? input.data : {}) as Record<
      string,
      unknown
    >;
    const agentId = typeof data.agentId === 'string' ? data.agentId.slice(0, 63) : '';
    const context = { stepId: id, agentId };
    const { files: _files, ...rest } = data;
    const text = toJsonb(rest);
    const spec = text !== null && text.length <= MAX_REJECTED_SPEC_CHARS ? text : '{"truncated":true}';
    const error = toPgText(input.error);
    return this.#run(context, async () => {
      const row = await this.#db
        .insertInto('steps')
        .values({
          id,
          agent_id: agentId,
          kind: StepKind.safeParse(data.kind).data ?? 'task',
          status: 'error',
          command: jsonb(toJsonb(data.command) === null ? null : data.command, 'command', context),
          spec: spec as JsonbText,
          error,
          error_code: input.errorCode,
          finished_at: sql<Date>`now()`,
          duration_ms: 0,
        })
        .onConflict((conflict) =>
          conflict
            .column('id')
            .doUpdateSet({
              status: 'error',
              pending_files: null,
              error,
              error_code: input.errorCode,
              finished_at: sql<Date>`now()`,
              duration_ms: durationMs('steps'),
              updated_at: sql<Date>`now()`,
            })
            .where('steps.status', 'not in', TERMINAL_STATUSES),
        )
        .returningAll()
        .executeTakeFirst();
      return row && toStepRecord(row);
    });
  }

  /**
   * Puts a non-terminal step back to `queued` (a retry, or a worker handing it back) and clears
   * its worker. Returns whether the step changed.
   */
  async markQueued(input: MarkQueuedInput): Promise<boolean> {
    const { id, error } = input;
    return this.#run({ stepId: id }, async () => {
      const guard = { attempt: input.attempt, status: input.fromStatus };
      const row = await this.#updateUnlessTerminal(id, guard, {
        status: 'queued',
        worker_id: null,
        ...(error === undefined ? {} : { error: error === null ? null : toPgText(error) }),
        updated_at: sql<Date>`now()`,
      });
      return row !== undefined;
    });
  }

  /**
   * Records a cancel request on a non-terminal step, keeping the first request time. Returns the
   * row (unchanged when already terminal), or undefined when the step is missing.
   */
  async requestCancel(id: string): Promise<StepRecord | undefined> {
    return this.#run({ stepId: id }, async () => {
      const row = await this.#updateUnlessTerminal(
        id,
        {},
        {
          cancel_requested_at: sql<Date>`coalesce(cancel_requested_at, now())`,
          updated_at: sql<Date>`now()`,
        },
      );
      if (row) return toStepRecord(row);
      const current = await this.#db.selectFrom('steps').selectAll().where('id', '=', id).executeTakeFirst();
      return current && toStepRecord(current);
    });
  }

  /** The step with this id, or undefined. */
  async get(id: string): Promise<StepRecord | undefined> {
    return this.#run({ stepId: id }, async () => {
      const row = await this.#db.selectFrom('steps').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toStepRecord(row);
    });
  }

  /**
   * Steps matching `filter`, newest first (`created_at desc, id desc`), one page at a time. Keyset
   * pagination: pages stay stable while new steps arrive.
   * @throws DbError `INVALID_CURSOR` for a cursor this method did not return.
   */
  async list(filter: StepListFilter = {}): Promise<StepPage> {
    const limit = resolveLimit(filter.limit);
    const cursor = filter.cursor === undefined ? undefined : decodeStepCursor(filter.cursor);
    const label = filter.label && jsonb({ [filter.label.key]: filter.label.value }, 'label', {});
    return this.#run({}, async () => {
      let query = this.#db
        .selectFrom('steps')
        .select(STEP_SUMMARY_COLUMNS)
        .select(CURSOR_CREATED_AT.as('cursor_created_at'));
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
      if (filter.agentGlobs !== undefined) {
        const patterns = filter.agentGlobs.map(globToLike);
        query = query.where(
          patterns.length === 0 ? sql<boolean>`false` : sql<boolean>`agent_id like any(${patterns}::text[])`,
        );
      }
      if (filter.runId !== undefined) query = query.where('run_id', '=', filter.runId);
      if (label !== undefined) query = query.where(sql<boolean>`labels @> ${label}::jsonb`);
      if (filter.createdAfter !== undefined) query = query.where('created_at', '>', filter.createdAfter);
      if (filter.createdBefore !== undefined) query = query.where('created_at', '<', filter.createdBefore);
      if (cursor !== undefined) {
        query = query.where(
          sql<boolean>`(created_at, id) < (${cursor.createdAt}::timestamptz, ${cursor.id})`,
        );
      }
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toStepSummary),
        ...(rows.length > limit && last
          ? { nextCursor: encodeStepCursor({ createdAt: last.cursor_created_at, id: last.id }) }
          : {}),
      };
    });
  }

  /**
   * Steps in `status` (`queued` or `running`) not changed since `updatedBefore`, oldest first: what
   * the reconciler checks against the queue. Each comes with its whole spec when PostgreSQL still
   * holds it (file contents included), ready to be queued again.
   */
  async listUnchangedSince(input: UnchangedStepsQuery): Promise<UnchangedStep[]> {
    const { status, updatedBefore } = input;
    return this.#run({}, async () => {
      const rows = await this.#db
        .selectFrom('steps')
        .selectAll()
        .where('status', '=', status)
        .where('updated_at', '<', updatedBefore)
        .orderBy('updated_at')
        .limit(input.limit ?? 100)
        .execute();
      return rows.map((row) => {
        const record = toStepRecord(row);
        const spec = restoreStepSpec(record.spec, row.pending_files);
        return spec === undefined ? { record } : { record, spec };
      });
    });
  }

  /** Steps `producer` enqueued that have not ended (`queued` or `running`): a token's queued quota. */
  async countUnfinished(producer: string): Promise<number> {
    return this.#run({}, async () => {
      const row = await this.#db
        .selectFrom('steps')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('producer', '=', producer)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirstOrThrow();
      return Number(row.count);
    });
  }

  /** Number of steps in each status, zero for statuses no step is in. */
  async countByStatus(): Promise<Record<StepStatus, number>> {
    return this.#run({}, async () => {
      const rows = await this.#db
        .selectFrom('steps')
        .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
        .groupBy('status')
        .execute();
      const counts = Object.fromEntries(StepStatus.options.map((status) => [status, 0])) as Record<
        StepStatus,
        number
      >;
      for (const row of rows) counts[row.status] = Number(row.count);
      return counts;
    });
  }

  /**
   * One conditional UPDATE: changes the row only while it is not terminal (and, with `attempt`,
   * while that attempt is the latest; with `status`, while the step is in it); returns it when
   * changed.
   */
  #updateUnlessTerminal(
    id: string,
    guard: { attempt?: number | undefined; status?: StepStatus | undefined },
    values: UpdateObject<Database, 'steps'>,
  ): Promise<StepRow | undefined> {
    let query = this.#db
      .updateTable('steps')
      .set(values)
      .where('id', '=', id)
      .where('status', 'not in', TERMINAL_STATUSES);
    if (guard.attempt !== undefined) query = query.where('attempts', '=', guard.attempt);
    if (guard.status !== undefined) query = query.where('status', '=', guard.status);
    return query.returningAll().executeTakeFirst();
  }

  async #run<T>(context: ErrorContext, work: () => Promise<T>): Promise<T> {
    if (this.#isClosed()) throw new DbError('DATABASE_CLOSED', 'database is closed', { context });
    try {
      return await work();
    } catch (error) {
      throw toDbError(error, context);
    }
  }
}
