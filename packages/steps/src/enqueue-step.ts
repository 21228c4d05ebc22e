import { createHash } from 'node:crypto';
import { SandfleetError } from '@sandfleet/contracts';
import type { ChatRepository, StepRepository } from '@sandfleet/db';
import type { EnqueueResult, StepQueue } from '@sandfleet/queue';
import { admitNewStep, checkStep } from './step-admission.js';
import { assertStepVisible, type Principal } from './step-scope.js';
import type { TokenQuotas } from './token-quotas.js';

/** What enqueueing as a {@link Principal} needs besides the queue: the rows it records first. */
export interface TenantStores {
  steps: Pick<StepRepository, 'insertQueued' | 'get' | 'deleteQueued' | 'countUnfinished'>;
  chats: Pick<ChatRepository, 'claimSession'>;
  quotas: Pick<TokenQuotas, 'assertJobSize' | 'assertQueued' | 'takeCreate'>;
}

/** Dependencies of {@link enqueueStep}; `tenancy` is required with `options.principal`. */
export interface EnqueueStepDeps {
  queue: Pick<StepQueue, 'enqueue'>;
  tenancy?: TenantStores;
}

/** Options of {@link enqueueStep}. */
export interface EnqueueStepOptions {
  /**
   * A retry-safe key for a spec without `id`: the same key twice is one step (its id is
   * {@link stepIdForKey}). A spec with an `id` is idempotent by it already.
   */
  idempotencyKey?: string;
  /** Who enqueues: checked against its scope and quotas, recorded as the row's `producer`. */
  principal?: Principal;
  /** The image a spec without `image` runs, checked against the principal's images. */
  defaultImage?: string;
}

/**
 * The step id a key stands for when the spec names none: `idem-` and the first 32 hex digits of
 * the key's SHA-256, a valid step id whatever the key, and the same on every retry.
 */
export function stepIdForKey(key: string): string {
  return `idem-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * The body to enqueue: a spec without `id` gets the key's id, so a retried request is the same
 * step; a spec with an `id` keeps it (the id already makes it idempotent).
 */
export function withIdempotentId(spec: unknown, key: string | undefined): unknown {
  if (key === undefined || typeof spec !== 'object' || spec === null || Array.isArray(spec)) return spec;
  if ((spec as { id?: unknown }).id !== undefined) return spec;
  return { ...spec, id: stepIdForKey(key) };
}

/**
 * Validates `spec` as StepSpec v1, records it `queued` and adds its job; idempotent by the
 * spec's id (or `idempotencyKey`).
 * @throws ValidationError `VALIDATION_FAILED` naming every bad field; nothing is written then.
 * @throws QueueError `QUEUE_UNAVAILABLE` / `ENQUEUE_FAILED` (retryable) while Redis is unreachable.
 */
export function enqueueStep(
  deps: EnqueueStepDeps,
  spec: unknown,
  options: EnqueueStepOptions = {},
): Promise<EnqueueResult> {
  const input = withIdempotentId(spec, options.idempotencyKey);
  if (!options.principal) return deps.queue.enqueue(input);
  if (!deps.tenancy) throw new TypeError('enqueueStep: a principal needs deps.tenancy');
  return enqueueAs(deps.queue, deps.tenancy, options.principal, input, options.defaultImage);
}

const UNDONE_ON: ReadonlySet<string> = new Set(['QUEUE_UNAVAILABLE', 'QUEUE_FULL']);

/**
 * Enqueue on behalf of a token: scope (agent, secrets, image, team vault, chat session), then quotas, then
 * the `queued` row with its `producer`, then the job (the queue finds the row and adds only the
 * job). A job Redis could not take (unreachable, or at `maxmemory`) leaves no row behind.
 */
async function enqueueAs(
  queue: Pick<StepQueue, 'enqueue'>,
  stores: TenantStores,
  principal: Principal,
  input: unknown,
  defaultImage: string | undefined,
): Promise<EnqueueResult> {
  const { id, spec, job } = checkStep(principal, stores.quotas, input, defaultImage);
  const existing = await stores.steps.get(id);
  if (existing) {
    // Idempotent by id, but only for what the token may see.
    assertStepVisible(principal, existing.agentId);
    return queue.enqueue(job);
  }
  await admitNewStep(principal, stores, spec, await stores.steps.countUnfinished(principal.name));
  const { inserted } = await stores.steps.insertQueued({ id, spec, producer: principal.name });
  try {
    const result = await queue.enqueue(job);
    return { id: result.id, created: inserted };
  } catch (error) {
    // Redis was unreachable or full: no job was added, so the row goes too (nothing is written).
    if (inserted && error instanceof SandfleetError && UNDONE_ON.has(error.code))
      await stores.steps.deleteQueued(id).catch(() => false);
    throw error;
  }
}
