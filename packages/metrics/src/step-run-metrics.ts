/**
 * Milliseconds a step's container spent in each lifecycle phase (the shape of the sandbox's
 * `SandboxRunResult.timings`): image check and create, archive upload, start, start to exit with
 * all output delivered, removal.
 */
export interface ContainerPhaseTimings {
  createMs: number;
  injectMs: number;
  startMs: number;
  runMs: number;
  destroyMs: number;
}

/**
 * What the engine records about the steps a worker runs. {@link SandfleetMetrics} implements it;
 * the engine depends on this interface only, so it runs without metrics too.
 */
export interface StepRunMetrics {
  /** A step started for the first time after waiting `seconds` in the queue (created → started). */
  observeQueueWait(seconds: number): void;
  /** A container of `workerId` is about to be created: one more active container. */
  containerStarted(workerId: string): void;
  /** A container of `workerId` is gone (whatever the ending): one less active container. */
  containerStopped(workerId: string): void;
  /** Phase timings of one container run. */
  observeContainerPhases(timings: ContainerPhaseTimings): void;
  /** Whether a warm container ran the step (`hit`), or why none did (`miss` and its cause). */
  observeWarmPool(result: 'hit' | 'miss', cause?: string): void;
  /** A step reached its final `status` after `durationSeconds` (from start, or creation if it never started). */
  stepFinished(status: string, durationSeconds: number): void;
  /** Bytes a step printed (all of it, including what its output limit dropped). */
  addOutputBytes(bytes: number): void;
  /** An infrastructure failure is being retried; `cause` is its error code (or `db_unavailable`). */
  stepRetried(cause: string): void;
  /** The reconciler repaired a step (`queued_without_job`, `running_without_job`, `lost`). */
  reconcilerRepaired(kind: string): void;
}
