import {
  toFieldIssues,
  ValidationError,
  WarmHint,
  type WarmHintAcceptedView,
  WarmHintBody,
} from '@sandfleet/contracts';
import type { WarmHintQueue } from '@sandfleet/queue';
import { assertAllowed, assertImageAllowed, type Principal } from './step-scope.js';

/** Dependencies of {@link warmAgent}. */
export interface WarmAgentDeps {
  hints: Pick<WarmHintQueue, 'add'>;
}

/** Options of {@link warmAgent}. */
export interface WarmAgentOptions {
  /** Who asks: the agent and the image must be in its scope, as for a step. */
  principal?: Principal;
}

/**
 * Asks the fleet to pre-start a container for `agentId`'s next step (`POST /v1/agents/{agentId}/warm`):
 * validates the agent id and `body` (`{ image? }`, which may be left out) as a StepSpec's, checks
 * them against the principal's scope as a step's, and queues a warm hint. A hint is advice: a
 * worker warms when its pool is on and the image runs the agent runtime, and a burst of hints for
 * one agent is one hint.
 * @throws ValidationError `VALIDATION_FAILED` naming every bad field (`agentId`, `image`, unknown ones).
 * @throws StepsError `FORBIDDEN` naming `agentId` or `image` when outside the principal's scope.
 * @throws QueueError `QUEUE_UNAVAILABLE` / `ENQUEUE_FAILED` (retryable) when Redis did not take it.
 */
export async function warmAgent(
  deps: WarmAgentDeps,
  agentId: unknown,
  body: unknown,
  options: WarmAgentOptions = {},
): Promise<WarmHintAcceptedView> {
  const hint = parseWarmHint(agentId, body);
  assertAllowed(options.principal, 'agentId', 'agents', hint.agentId);
  assertImageAllowed(options.principal, hint.image);
  await deps.hints.add(hint);
  return { agentId: hint.agentId, accepted: true };
}

/** The hint of a request, every bad field of the path and the body named in one error. */
function parseWarmHint(agentId: unknown, body: unknown): WarmHint {
  const fields = WarmHintBody.safeParse(body ?? {});
  const hint = WarmHint.safeParse({ agentId, ...(fields.success ? fields.data : {}) });
  if (fields.success && hint.success) return hint.data;
  const issues = [
    ...(hint.success ? [] : toFieldIssues(hint.error)),
    ...(fields.success ? [] : toFieldIssues(fields.error)),
  ];
  throw new ValidationError('warm hint', issues);
}
