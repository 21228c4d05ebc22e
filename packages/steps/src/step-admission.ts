import { randomUUID } from 'node:crypto';
import { parseOrThrow, StepSpec } from '@sandfleet/contracts';
import type { ChatRepository } from '@sandfleet/db';
import { chatSessionConflict } from './errors.js';
import { assertSpecAllowed, type Principal, scopedSharedVault } from './step-scope.js';
import type { TokenQuotas } from './token-quotas.js';

/** A spec a principal may enqueue: its id, the row's spec and the job's data. */
export interface CheckedStep {
  id: string;
  /** What is recorded: the parsed spec with its id and the token's team filled in. */
  spec: StepSpec & { id: string };
  /** What is queued: the input as given, with its id and the token's team filled in. */
  job: Record<string, unknown>;
}

/**
 * The checks of one spec that need no database, the same for `POST /v1/steps` and each item of
 * a batch: StepSpec v1, the principal's scope (agent, secrets, image, team vault) and its
 * `maxJobBytes`.
 * @throws ValidationError `VALIDATION_FAILED` naming every bad field.
 * @throws StepsError `FORBIDDEN` naming the first field out of scope, `RATE_LIMITED` for the size.
 */
export function checkStep(
  principal: Principal,
  quotas: Pick<TokenQuotas, 'assertJobSize'>,
  input: unknown,
  defaultImage: string | undefined,
): CheckedStep {
  const parsed = parseOrThrow(StepSpec, input, 'step spec');
  const id = parsed.id ?? randomUUID();
  assertSpecAllowed(principal, parsed, defaultImage);
  const sharedVault = scopedSharedVault(principal, parsed);
  const vault = sharedVault ? { sharedVault } : {};
  quotas.assertJobSize(principal, parsed);
  return { id, spec: { ...parsed, id, ...vault }, job: { ...(input as object), id, ...vault } };
}

/** What {@link admitNewStep} needs. */
export interface AdmissionStores {
  chats: Pick<ChatRepository, 'claimSession'>;
  quotas: Pick<TokenQuotas, 'assertQueued' | 'takeCreate'>;
}

/**
 * The checks of a spec with no row yet: its chat session is its agent's (claimed when free),
 * `queued` (the principal's steps not yet ended) is under its `maxQueued`, and it counts one
 * create against `createsPerMinute`.
 * @throws StepsError `CHAT_SESSION_CONFLICT`, `RATE_LIMITED`.
 */
export async function admitNewStep(
  principal: Principal,
  stores: AdmissionStores,
  spec: StepSpec,
  queued: number,
): Promise<void> {
  if (spec.kind === 'chat' && spec.chatSessionId !== undefined) {
    const owner = await stores.chats.claimSession(spec.chatSessionId, spec.agentId);
    if (owner !== spec.agentId) throw chatSessionConflict(spec.chatSessionId, spec.agentId);
  }
  stores.quotas.assertQueued(principal, queued);
  stores.quotas.takeCreate(principal);
}
