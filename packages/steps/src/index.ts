export { type CancelResult, StepCanceller, type StepCancellerDeps } from './cancel-step.js';
export { type ListChatMessagesDeps, listChatMessages } from './chat-session.js';
export {
  type EnqueueStepDeps,
  type EnqueueStepOptions,
  enqueueStep,
  stepIdForKey,
  type TenantStores,
  withIdempotentId,
} from './enqueue-step.js';
export {
  type BatchTenantStores,
  type EnqueueStepsDeps,
  type EnqueueStepsOptions,
  enqueueSteps,
} from './enqueue-steps.js';
export { chatSessionConflict, StepsError, type StepsErrorCode } from './errors.js';
export {
  FINISHED_GRACE_MS,
  type FollowStepDeps,
  type FollowStepOptions,
  followStep,
} from './follow-step.js';
export { type GetStepDeps, getStep } from './get-step.js';
export { type ListStepsDeps, listSteps, type StepListPage } from './list-steps.js';
export { type AdmissionStores, admitNewStep, type CheckedStep, checkStep } from './step-admission.js';
export {
  type OpenPublisher,
  type RequeueFrom,
  type StepOutcome,
  StepOutcomes,
  type StepOutcomesDeps,
  type StoreWrite,
} from './step-outcomes.js';
export {
  assertAllowed,
  assertImageAllowed,
  assertSpecAllowed,
  assertStepVisible,
  forbidden,
  isAllowed,
  matchesGlobs,
  type Principal,
  type ScopeDimension,
  scopedSharedVault,
  type TokenQuotaLimits,
  type TokenScope,
} from './step-scope.js';
export { jobBytes, TokenQuotas, type TokenQuotasOptions } from './token-quotas.js';
export { type WarmAgentDeps, type WarmAgentOptions, warmAgent } from './warm-agent.js';
