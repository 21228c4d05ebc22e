import {
  type ErrorCode,
  isTerminalStatus,
  SandfleetError,
  type StepJobResult,
  StepSpec,
  toFieldIssues,
  ValidationError,
} from '@sandfleet/contracts';
import type { ChatRepository, StepRepository } from '@sandfleet/db';
import { type Logger, maskUrlCredentialsIn, withSecrets } from '@sandfleet/logging';
import type { StepRunMetrics } from '@sandfleet/metrics';
import {
  type AgentLease,
  type AgentLocks,
  DeferError,
  HandBackError,
  type StepDelivery,
} from '@sandfleet/queue';
import { isSandboxError, type Sandbox, type SandboxStopReason } from '@sandfleet/sandbox';
import { type OpenPublisher, type StepOutcome, StepOutcomes } from '@sandfleet/steps';
import type { StepEventPublisher } from '@sandfleet/stream';
import { ChatTurns } from './chat-turns.js';
import { EngineError } from './errors.js';
import type { ImageAllowlist } from './image-allowlist.js';
import { logOutputToJob } from './job-log-output.js';
import { recordUntilStored } from './record-until-stored.js';
import type { RunningSteps } from './running-steps.js';
import type { SecretResolver } from './secret-resolver.js';
import { runStepAttempt, type StepAttemptResult } from './step-attempt.js';
import { type LimitPolicy, type ResolvedLimits, resolveLimits } from './step-limits.js';

export type { OpenPublisher } from '@sandfleet/steps';

export interface StepRunnerDeps {
  workerId: string;
  steps: StepRepository;
  sandbox: Sandbox;
  openPublisher: OpenPublisher;
  images: ImageAllowlist;
  secrets: SecretResolver;
  running: RunningSteps;
  logger: Logger;
  defaultImage: string;
  limits: LimitPolicy;
  /** SIGTERM → SIGKILL grace when a step is stopped, ms. */
  stopGraceMs: number;
  /** Records queue wait, container phases, active containers, outcomes and output bytes. */
  metrics?: StepRunMetrics;
  /** Chat sessions' turns; needed for `kind: chat` steps. */
  chats?: ChatRepository;
  /** Fleet label of the containers (see `LABELS.fleet`); reapers judge only their own fleet's. */
  fleet?: string;
  /** One step at a time per agent (its home volume); leave out to run an agent's steps in parallel. */
  agentLocks?: AgentLocks;
  /** How long a step whose agent is busy waits before it is tried again, ms. @defaultValue 1000 */
  agentBusyRetryMs?: number;
  /**
   * Aborted when the worker must stop. Until then, writes to PostgreSQL are retried while it is
   * unreachable, so a finished container's outcome is kept rather than the step run again.
   */
  stopping?: AbortSignal;
}

/** Output logged with a step that did not succeed, for operators reading worker logs. */
const OUTPUT_TAIL_CHARS = 512;

/** A terminal outcome of a run, or `handback` when its worker stopped it to shut down. */
type RunOutcome = Pick<StepOutcome, 'status' | 'exitCode'> | 'handback';

/** One delivery of a step job being handled: what its phases share and its cleanup releases. */
interface Delivery {
  delivery: StepDelivery;
  stepId: string;
  startedAt: number;
  log: Logger;
  /** Aborted when the step must stop (`cancel`, `shutdown`, …: the reason). */
  signal: AbortSignal;
  releaseSecrets: () => void;
  lease?: AgentLease;
  /** The row's attempt number once this delivery started it: fences its writes. */
  attempt?: number;
  publisher?: StepEventPublisher;
}

/** What starting the attempt settled: the image and secrets it runs with. */
interface Started {
  image: string;
  secrets: Record<string, string>;
  limits: ResolvedLimits;
  attempt: number;
  cancelRequested: boolean;
}

/**
 * Runs one delivery of a step job in named phases: admit (validate), settle a step that needs no
 * run, start (allowlist, secrets, agent lock, `running`), run the container, record the outcome,
 * or fail (retry, hand back, end in error). Step failures are final; infrastructure failures are
 * retried by the queue until the job's attempts are spent, then end `error`. Every terminal row
 * and `finished` event goes through {@link StepOutcomes}.
 */
export class StepRunner {
  readonly #deps: StepRunnerDeps;
  readonly #chat: ChatTurns | undefined;
  readonly #outcomes: StepOutcomes;

  constructor(deps: StepRunnerDeps) {
    this.#deps = deps;
    this.#chat = deps.chats && new ChatTurns(deps.chats);
    this.#outcomes = new StepOutcomes({
      steps: deps.steps,
      openPublisher: deps.openPublisher,
      store: (what, write) => this.#store(what, write),
    });
  }

  async handle(delivery: StepDelivery): Promise<StepJobResult> {
    const startedAt = performance.now();
    const spec = await this.#admit(delivery);
    const settled = await this.#settleWithoutRun(delivery.stepId);
    if (settled) return summary(delivery.stepId, startedAt, settled.status, settled.exitCode);
    const run: Delivery = {
      delivery,
      stepId: delivery.stepId,
      startedAt,
      log: this.#deps.logger.child({ stepId: delivery.stepId, attempt: delivery.attempt }),
      signal: this.#deps.running.register(delivery.stepId),
      releaseSecrets: () => {},
    };
    try {
      const started = await this.#start(run, spec);
      if (!started) return summary(run.stepId, startedAt, 'skipped', null);
      const ran = await this.#runContainer(run, spec, started);
      return await this.#record(run, spec, ran);
    } catch (error) {
      return await this.#fail(run, error);
    } finally {
      await run.lease
        ?.release()
        .catch((err: unknown) => run.log.warn({ err }, 'could not release the agent lock'));
      this.#deps.running.unregister(run.stepId, run.signal);
      await run.publisher?.close();
      run.releaseSecrets();
    }
  }

  /** Validates the job data; an invalid job is recorded as `error` and not retried. */
  async #admit(delivery: StepDelivery): Promise<StepSpec & { id: string }> {
    const { stepId } = delivery;
    const parsed = StepSpec.safeParse(delivery.data);
    let rejection: SandfleetError | undefined;
    // Data past the worker's bounds was never parsed (`JOB_DATA_REJECTED`).
    if (delivery.rejection) rejection = delivery.rejection;
    else if (!parsed.success)
      rejection = new ValidationError('step spec', toFieldIssues(parsed.error), { stepId });
    else if (parsed.data.id !== undefined && parsed.data.id !== stepId) {
      rejection = new EngineError(
        'STEP_ID_MISMATCH',
        `job id ${stepId} differs from spec id ${parsed.data.id}`,
        {
          context: { stepId },
        },
      );
    }
    if (rejection || !parsed.success) {
      const error = rejection as SandfleetError;
      this.#deps.logger.warn({ stepId, code: error.code, err: error }, 'step job rejected');
      // Stored as the row's spec: a credential in it (`workspace.repo`) must not be.
      await this.#outcomes.reject(stepId, maskUrlCredentialsIn(delivery.data), error);
      throw error;
    }
    const spec = { ...parsed.data, id: stepId };
    await this.#store('queued row', () => this.#deps.steps.insertQueued({ id: stepId, spec }));
    return spec;
  }

  /**
   * The outcome of a step that needs no run: already terminal (a redelivery after its outcome was
   * recorded), or cancelled before it started (ended `cancelled` here).
   */
  async #settleWithoutRun(stepId: string): Promise<Pick<StepOutcome, 'status' | 'exitCode'> | undefined> {
    const existing = await this.#store('step row', () => this.#deps.steps.get(stepId));
    if (existing && isTerminalStatus(existing.status))
      return { status: existing.status, exitCode: existing.exitCode };
    if (!existing?.cancelRequestedAt) return undefined;
    await this.#finishStep(stepId, { status: 'cancelled', exitCode: null });
    return { status: 'cancelled', exitCode: null };
  }

  /**
   * Checks the image, resolves secrets and limits, takes the agent's lock, records `running` and
   * opens the attempt's publisher. Undefined when the row could not be started (already ended).
   */
  async #start(run: Delivery, spec: StepSpec & { id: string }): Promise<Started | undefined> {
    const { stepId, delivery } = run;
    const image = spec.image ?? this.#deps.defaultImage;
    this.#deps.images.assertAllowed(image, stepId);
    const secrets = await this.#deps.secrets.resolve(spec.secrets, stepId);
    const scope = withSecrets(run.log, Object.values(secrets));
    run.log = scope.logger;
    run.releaseSecrets = () => scope.release();
    const limits = resolveLimits(spec.limits, this.#deps.limits);
    run.lease = await this.#lockAgent(spec);
    const row = await this.#store('running status', () =>
      this.#deps.steps.markRunning({ id: stepId, workerId: this.#deps.workerId }),
    );
    if (!row) return undefined;
    run.attempt = row.attempts;
    if (row.attempts === 1 && row.startedAt) {
      this.#deps.metrics?.observeQueueWait((row.startedAt.getTime() - row.createdAt.getTime()) / 1000);
    }
    run.publisher = await this.#deps.openPublisher({
      stepId,
      secrets: Object.values(secrets),
      outputLimitBytes: limits.outputBytes,
      attempt: row.attempts,
    });
    await run.publisher.status({ status: 'running', attempt: row.attempts, workerId: this.#deps.workerId });
    run.log.info({ agentId: spec.agentId, image, attempt: row.attempts }, 'step started');
    await delivery.log(`attempt ${row.attempts} started on worker ${this.#deps.workerId}`);
    return { image, secrets, limits, attempt: row.attempts, cancelRequested: row.cancelRequestedAt !== null };
  }

  /** Runs the container (after a chat's history is laid out), streaming its output. */
  async #runContainer(
    run: Delivery,
    spec: StepSpec & { id: string },
    started: Started,
  ): Promise<StepAttemptResult> {
    if (started.cancelRequested) this.#deps.running.stop(run.stepId, 'cancel');
    if (spec.kind === 'chat' && !this.#chat) {
      throw new EngineError('CHAT_UNAVAILABLE', 'this worker records no chat sessions', {
        context: { stepId: run.stepId },
      });
    }
    const runtimeFiles = (await this.#chat?.before(spec)) ?? [];
    return runStepAttempt(
      this.#deps.sandbox,
      {
        spec,
        image: started.image,
        attempt: started.attempt,
        workerId: this.#deps.workerId,
        secrets: started.secrets,
        limits: started.limits,
        stopGraceMs: this.#deps.stopGraceMs,
        fleet: this.#deps.fleet,
        runtimeFiles,
        publisher: run.publisher as StepEventPublisher,
        signal: run.signal,
      },
      this.#deps.metrics,
    );
  }

  /** Records how the container run ended (or hands the step back when its worker stopped it). */
  async #record(
    run: Delivery,
    spec: StepSpec & { id: string },
    ran: StepAttemptResult,
  ): Promise<StepJobResult> {
    const outcome = outcomeOf(ran.run.stopReason, ran.run.exitCode);
    if (outcome === 'handback') return this.#handBack(run);
    if (outcome.status === 'succeeded')
      await this.#store('chat reply', async () => this.#chat?.after(spec, ran.runtime, ran.stdout));
    // A step that failed because the agent runtime itself did (exit 70, its `result` event's
    // `error`) records the runtime's code and message, not just the exit code.
    const runtimeError = outcome.status === 'failed' ? ran.runtime?.error : undefined;
    await this.#finish(run, {
      ...outcome,
      ...(runtimeError === undefined ? {} : { error: runtimeError }),
      oomKilled: ran.run.oomKilled,
      imageId: ran.run.imageId ?? null,
      result: ran.runtime,
    });
    await this.#logOutput(run);
    const publisher = run.publisher as StepEventPublisher;
    const tail =
      outcome.status === 'succeeded' ? undefined : publisher.capturedOutput.slice(-OUTPUT_TAIL_CHARS);
    run.log.info(
      { status: outcome.status, exitCode: outcome.exitCode, oomKilled: ran.run.oomKilled, outputTail: tail },
      'step finished',
    );
    await run.delivery.log(`finished ${outcome.status} (exit code ${outcome.exitCode ?? 'none'})`);
    return summary(run.stepId, run.startedAt, outcome.status, outcome.exitCode);
  }

  /**
   * What a failed phase means: the queue's own signals pass through, a stale attempt records
   * nothing, a stop before the container started is the stop's outcome, a retryable failure with
   * attempts left is retried, anything else ends the step in `error`.
   */
  async #fail(run: Delivery, error: unknown): Promise<StepJobResult> {
    if (error instanceof HandBackError || error instanceof DeferError) throw error;
    const { stepId, delivery, log } = run;
    if (isFenced(error)) {
      // Another attempt owns the step now (this delivery's job stalled and was redelivered):
      // whatever this one saw, it records and publishes nothing.
      log.warn({ err: error }, 'stale attempt stopped: a newer attempt owns the step');
      return summary(stepId, run.startedAt, 'stale', null);
    }
    // Stopped before its container started (the sandbox rejects with ABORTED): the same outcome
    // as a stop while it ran, not an infrastructure error.
    if (isSandboxError(error, 'ABORTED') && run.signal.aborted) {
      // The sandbox's rule: a stop for anything but `shutdown` counts as `cancel`.
      const outcome = outcomeOf(run.signal.reason === 'shutdown' ? 'shutdown' : 'cancel', null);
      if (outcome === 'handback') return this.#handBack(run);
      await this.#finish(run, outcome);
      log.info({ status: outcome.status }, 'step cancelled before its container started');
      return summary(stepId, run.startedAt, outcome.status, outcome.exitCode);
    }
    const failure = asSandfleetError(error, stepId);
    if (failure.retryable && delivery.attempt < delivery.maxAttempts) {
      log.warn({ err: failure, code: failure.code }, 'step attempt failed; will retry');
      this.#deps.metrics?.stepRetried(failure.code);
      await this.#outcomes.retry(stepId, run, { message: redactError(run, failure).message });
      throw failure;
    }
    log.error({ err: failure, code: failure.code }, 'step ended in error');
    await this.#finish(run, { status: 'error', exitCode: null, error: failure });
    if (run.publisher) await this.#logOutput(run);
    // The same code, now final: it came from the catalogue when the failure was raised.
    throw new SandfleetError(failure.code as ErrorCode, failure.message, {
      cause: failure,
      retryable: false,
      context: { stepId },
    });
  }

  /** Puts the step back in the queue without spending an attempt (the worker is shutting down). */
  async #handBack(run: Delivery): Promise<never> {
    await this.#outcomes.handBack(run.stepId, run);
    run.log.info('step handed back');
    throw new HandBackError(run.stepId);
  }

  /** Records this attempt's terminal outcome; counts it when this call made the transition. */
  #finish(run: Delivery, outcome: Omit<StepOutcome, 'attempt'>): Promise<void> {
    const error = outcome.error && redactError(run, outcome.error);
    return this.#finishStep(
      run.stepId,
      { ...outcome, ...(error ? { error } : {}), attempt: run.attempt },
      run.publisher,
    );
  }

  /** Records a terminal outcome; counts it when this call made the transition. */
  async #finishStep(stepId: string, outcome: StepOutcome, publisher?: StepEventPublisher): Promise<void> {
    const row = await this.#outcomes.finish(stepId, outcome, publisher);
    if (!row) return;
    this.#deps.metrics?.stepFinished(outcome.status, (row.durationMs ?? 0) / 1000);
    this.#deps.metrics?.addOutputBytes(publisher?.outputBytes ?? 0);
  }

  /** A PostgreSQL write (or read) of the step, waited out while the database is unreachable. */
  #store<T>(what: string, write: () => Promise<T>): Promise<T> {
    const { logger, stopping, metrics } = this.#deps;
    return recordUntilStored(write, {
      what,
      logger,
      ...(stopping ? { stopping } : {}),
      onRetry: () => metrics?.stepRetried('db_unavailable'),
    });
  }

  /** Takes the agent's lock, or defers the step while another step of the agent runs. */
  async #lockAgent(spec: StepSpec & { id: string }): Promise<AgentLease | undefined> {
    const locks = this.#deps.agentLocks;
    if (!locks) return undefined;
    const lease = await locks.acquire(spec.agentId, spec.id);
    if (lease) return lease;
    throw new DeferError(
      spec.id,
      this.#deps.agentBusyRetryMs ?? 1000,
      `agent ${spec.agentId} is running another step`,
    );
  }

  /** Appends the end of the captured output to the job's log (Bull Board); never fails the step. */
  async #logOutput(run: Delivery): Promise<void> {
    try {
      await logOutputToJob(run.delivery, run.publisher?.capturedOutput ?? '');
    } catch (err) {
      run.log.warn({ err }, 'could not append output to the job log');
    }
  }
}

function summary(stepId: string, startedAt: number, status: string, exitCode: number | null): StepJobResult {
  return { stepId, status, exitCode, durationMs: Math.round(performance.now() - startedAt) };
}

/** An error's code and message, the message redacted with the step's secrets (it is stored). */
function redactError(run: Delivery, error: Pick<SandfleetError, 'code' | 'message'>) {
  return { code: error.code, message: run.publisher ? run.publisher.redact(error.message) : error.message };
}

function isFenced(error: unknown): boolean {
  return error instanceof SandfleetError && error.code === 'STREAM_ATTEMPT_FENCED';
}

/** The outcome of a run that ended with `exitCode`, stopped for `stopReason` (if it was). */
function outcomeOf(stopReason: SandboxStopReason | undefined, exitCode: number | null): RunOutcome {
  switch (stopReason) {
    case 'shutdown':
      return 'handback';
    case 'cancel':
      return { status: 'cancelled', exitCode };
    case 'timeout':
      return { status: 'timed_out', exitCode };
    case undefined:
      return { status: exitCode === 0 ? 'succeeded' : 'failed', exitCode };
  }
}

function asSandfleetError(error: unknown, stepId: string): SandfleetError {
  if (error instanceof SandfleetError) return error;
  return new SandfleetError('INTERNAL_ERROR', error instanceof Error ? error.message : String(error), {
    cause: error,
    retryable: true,
    context: { stepId },
  });
}
