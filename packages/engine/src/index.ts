export { ChatTurns } from './chat-turns.js';
export { EngineError, type EngineErrorCode } from './errors.js';
export { ImageAllowlist } from './image-allowlist.js';
export { OrphanReaper, type OrphanReaperDeps } from './orphan-reaper.js';
export { RunningSteps } from './running-steps.js';
export { SecretResolver, type SecretResolverOptions } from './secret-resolver.js';
export { type LimitPolicy, type ResolvedLimits, resolveLimits } from './step-limits.js';
export {
  type ReconcileRepair,
  type ReconcileReport,
  StepReconciler,
  type StepReconcilerDeps,
} from './step-reconciler.js';
export { type OpenPublisher, StepRunner, type StepRunnerDeps } from './step-runner.js';
export { type WarmHintOutcome, WarmHints, type WarmHintsDeps, warmRequestFor } from './warm-hints.js';
export { WorkerService, type WorkerServiceOptions } from './worker-service.js';
