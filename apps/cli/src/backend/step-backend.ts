import type {
  CancelResult,
  CreateStepResult,
  StepListFilter,
  StepPage,
  StepRecord,
  WarmAgentResult,
} from '@sandfleet/client';
import type { StepEvent, StepSpecInput } from '@sandfleet/contracts';

/**
 * What the step commands (`run`, `logs`, `status`, `cancel`, `ls`, `warm`) need, whichever way they reach
 * the fleet: through the HTTP API or directly on Redis and PostgreSQL. Both give steps in the
 * API's JSON shape (camelCase, ISO times) and the same error codes, so every command prints and
 * exits the same in both modes.
 */
export interface StepBackend {
  /** `api` or `direct`. */
  readonly mode: 'api' | 'direct';
  /** Validates and enqueues a step. @throws `VALIDATION_FAILED` naming each bad field. */
  enqueue(spec: StepSpecInput): Promise<CreateStepResult>;
  /**
   * The step's events after `afterSeq`: retained ones, then live ones, ending after `finished`,
   * or without it when the step has ended and its events expired.
   * @throws `STEP_NOT_FOUND` when there is no such step.
   */
  follow(id: string, afterSeq: number): AsyncIterable<StepEvent>;
  /** The events retained so far after `afterSeq`, without waiting for more. */
  replay(id: string, afterSeq: number): Promise<StepEvent[]>;
  /** The step, or undefined when there is none. */
  get(id: string): Promise<StepRecord | undefined>;
  /** A page of steps, newest first. @throws `INVALID_CURSOR` for a cursor of nothing. */
  list(filter: StepListFilter): Promise<StepPage>;
  /** @throws `STEP_NOT_FOUND` when there is no such step. */
  cancel(id: string): Promise<CancelResult>;
  /**
   * Queues a warm hint for the agent's next step (`image`: the one it will name).
   * @throws `VALIDATION_FAILED` for a bad agent id or image.
   */
  warm(agentId: string, image?: string): Promise<WarmAgentResult>;
}
