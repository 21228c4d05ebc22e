import {
  DEFAULT_BATCH_MAX_STEPS,
  parseOrThrow,
  SandfleetError,
  type StepBatchItemResult,
  StepBatchRequest,
  stepBatchItemError,
  ValidationError,
} from '@sandfleet/contracts';
import type { StepRepository } from '@sandfleet/db';
import type { StepQueue } from '@sandfleet/queue';
import type { TenantStores } from './enqueue-step.js';
import { admitNewStep, checkStep } from './step-admission.js';
import { assertStepVisible, type Principal } from './step-scope.js';

/** What enqueueing a batch as a {@link Principal} needs: {@link TenantStores} and the rows' states. */
export interface BatchTenantStores extends TenantStores {
  steps: TenantStores['steps'] & Pick<StepRepository, 'getStates'>;
}

/** Dependencies of {@link enqueueSteps}; `tenancy` is required with `options.principal`. */
export interface EnqueueStepsDeps {
  queue: Pick<StepQueue, 'enqueueMany'>;
  tenancy?: BatchTenantStores;
}

/** Options of {@link enqueueSteps}. */
export interface EnqueueStepsOptions {
  /** Who enqueues: each item is checked against its scope and quotas as `enqueueStep` checks one. */
  principal?: Principal;
  /** The image a spec without `image` runs, checked against the principal's images. */
  defaultImage?: string;
  /** Most items a batch may hold. @defaultValue {@link DEFAULT_BATCH_MAX_STEPS} */
  maxSteps?: number;
}

/** Refusals of one item; any other error (PostgreSQL or Redis down) fails the whole batch. */
const ITEM_CODES: ReadonlySet<string> = new Set([
  'VALIDATION_FAILED',
  'FORBIDDEN',
  'CHAT_SESSION_CONFLICT',
  'RATE_LIMITED',
]);

/** The result of item `index` refused with `error`; rethrows an error that is not an item's own. */
function refused(index: number, error: unknown): StepBatchItemResult {
  if (error instanceof SandfleetError && ITEM_CODES.has(error.code)) return stepBatchItemError(index, error);
  throw error;
}

/**
 * Enqueues a batch (`{ "steps": [StepSpec, …] }`), one result per item in order: `{ id, created }`
 * or `{ error: { code, message } }` naming the item's index and field. Each item passes the
 * checks `enqueueStep` makes (StepSpec, scope, team vault, job size, chat session, queued and
 * create quotas, visibility of an existing id) and is idempotent by its id; an id given twice is
 * one step (the later items answer `created: false`). The rows go in one transaction, the jobs in
 * one `addBulk` (`StepQueue.enqueueMany`).
 * @throws ValidationError `VALIDATION_FAILED` when the body is not a batch or holds more than
 *   `maxSteps` items; nothing is written then.
 * @throws QueueError `QUEUE_UNAVAILABLE` / `QUEUE_FULL` / `ENQUEUE_FAILED` (retryable), DbError
 *   `DB_UNAVAILABLE`: the whole batch failed (see `StepQueue.enqueueMany` for what stays written).
 */
export async function enqueueSteps(
  deps: EnqueueStepsDeps,
  body: unknown,
  options: EnqueueStepsOptions = {},
): Promise<StepBatchItemResult[]> {
  const { steps } = parseOrThrow(StepBatchRequest, body, 'step batch');
  const max = options.maxSteps ?? DEFAULT_BATCH_MAX_STEPS;
  if (steps.length > max) {
    throw new ValidationError('step batch', [
      { path: 'steps', message: `holds ${steps.length} steps, more than the ${max} a batch may hold` },
    ]);
  }
  const { principal } = options;
  if (principal && !deps.tenancy) throw new TypeError('enqueueSteps: a principal needs deps.tenancy');
  const results: StepBatchItemResult[] = new Array(steps.length);
  const admitted =
    principal && deps.tenancy
      ? await admit(deps.tenancy, principal, steps, options.defaultImage, results)
      : steps.map((job, index) => ({ index, job }));
  const queued = await deps.queue.enqueueMany(
    admitted.map((item) => item.job),
    principal ? { producer: principal.name } : {},
  );
  queued.forEach((result, at) => {
    const { index } = admitted[at] as { index: number };
    results[index] = 'error' in result ? refused(index, result.error) : result;
  });
  return results;
}

/**
 * The items `principal` may enqueue, with their jobs; the others' refusals go into `results`.
 * Checks the ids' rows in one query and counts the principal's unfinished steps once, adding
 * each step this batch admits.
 */
async function admit(
  stores: BatchTenantStores,
  principal: Principal,
  steps: readonly unknown[],
  defaultImage: string | undefined,
  results: StepBatchItemResult[],
): Promise<{ index: number; job: unknown }[]> {
  const checked = steps.flatMap((input, index) => {
    try {
      return [{ index, ...checkStep(principal, stores.quotas, input, defaultImage) }];
    } catch (error) {
      results[index] = refused(index, error);
      return [];
    }
  });
  if (checked.length === 0) return [];
  const rows = await stores.steps.getStates([...new Set(checked.map((item) => item.id))]);
  let queued = await stores.steps.countUnfinished(principal.name);
  const admittedIds = new Set<string>();
  const admitted: { index: number; job: unknown }[] = [];
  for (const item of checked) {
    try {
      const row = rows.get(item.id);
      // Idempotent by id, but only for what the token may see.
      if (row) assertStepVisible(principal, row.agentId);
      else if (!admittedIds.has(item.id)) {
        await admitNewStep(principal, stores, item.spec, queued);
        queued += 1;
        admittedIds.add(item.id);
      }
      admitted.push({ index: item.index, job: item.job });
    } catch (error) {
      results[item.index] = refused(item.index, error);
    }
  }
  return admitted;
}
