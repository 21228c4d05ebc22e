import {
  isTerminalStatus,
  SandfleetError,
  type StepJobResult,
  StepSpec,
  type TerminalStatus,
  toFieldIssues,
  ValidationError,
} from '@sandfleet/contracts';
import type { ChatRepository, StepRepository } from '@sandfleet/db';
import { type Logger, withSecrets } from '@sandfleet/logging';
import type { StepRunMetrics } from '@sandfleet/metrics';
import {
  type AgentLease,
  type AgentLocks,
  DeferError,
  HandBackError,
  type StepDelivery,
} from '@sandfleet/queue';
import { isSandboxError, type Sandbox, type SandboxRunResult } from '@sandfleet/sandbox';
import type { StepEventPublisher } from '@sandfleet/stream';
import { ChatTurns } from './chat-turns.js';
import { EngineError } from './errors.js';
import type { ImageAllowlist } from './image-allowlist.js';
import { logOutputToJob } from './job-log-output.js';
import { recordUntilStored } from './record-until-stored.js';
import type { RunningSteps } from './running-steps.js';
import type { SecretResolver } from './secret-resolver.js';
import { runStepAttempt } from './step-attempt.js';
import { type LimitPolicy, resolveLimits } from './step-limits.js';

/** Opens the event publisher of one step attempt. */
export type OpenPublisher = (options: {
  stepId: string;
  secrets: string[];
  outputLimitBytes: number;
  /** The attempt publishing: older attempts of the step can publish nothing afterwards. */
  attempt?: number;
}) => Promise<StepEventPublisher>;

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

interface Finish {
  status: TerminalStatus;
  exitCode: number | null;
  error?: SandfleetError;
  run?: SandboxRunResult;
  /** The agent runtime's result, recorded as the step's result. */
  result?: unknown;
  /** The attempt recording it (see `MarkFinishedInput.attempt`); none for a step that never started. */
  attempt?: number | undefined;
}

/**
 * Runs one delivery of a step job: validate, record `running`, run the container, stream its
 * output, record the outcome. Step failures are final; infrastructure failures are retried by the
 * queue until the job's attempts are spent, then end `error`.
 */
export class StepRunner {
  readonly #deps: StepRunnerDeps;
  readonly #chat: ChatTurns | undefined;

  constructor(deps: StepRunnerDeps) {
    this.#deps = deps;
    this.#chat = deps.chats && new ChatTurns(deps.chats);
  }

  async handle(delivery: StepDelivery): Promise<StepJobResult> {
    const { stepId } = delivery;
    const startedAt = performance.now();
    let log = this.#deps.logger.child({ stepId, attempt: delivery.attempt });
    let releaseSecrets = () => {};
    const spec = await this.#admit(delivery);
    let publisher: StepEventPublisher | undefined;
    const summary = (status: string, exitCode: number | null): StepJobResult => ({
      stepId,
      status,
      exitCode,
      durationMs: Math.round(performance.now() - startedAt),
    });
    const existing = await this.#store('step row', () => this.#deps.steps.get(stepId));
    if (existing && isTerminalStatus(existing.status)) return summary(existing.status, existing.exitCode);
    if (existing?.cancelRequestedAt) {
      await this.#finish(stepId, { status: 'cancelled', exitCode: null }, undefined);
      return summary('cancelled', null);
    }
    const signal = this.#deps.running.register(stepId);
    let lease: AgentLease | undefined;
    /** The row's attempt number once this delivery started it: fences its writes. */
    let attempt: number | undefined;
    try {
      const image = spec.image ?? this.#deps.defaultImage;
      this.#deps.images.assertAllowed(image, stepId);
      const secrets = await this.#deps.secrets.resolve(spec.secrets, stepId);
      const scope = withSecrets(log, Object.values(secrets));
      log = scope.logger;
      releaseSecrets = () => scope.release();
      const limits = resolveLimits(spec.limits, this.#deps.limits);
      lease = await this.#lockAgent(spec);
      const row = await this.#store('running status', () =>
        this.#deps.steps.markRunning({ id: stepId, workerId: this.#deps.workerId }),
      );
      if (!row) return summary('skipped', null);
      attempt = row.attempts;
      if (row.attempts === 1 && row.startedAt) {
        this.#deps.metrics?.observeQueueWait((row.startedAt.getTime() - row.createdAt.getTime()) / 1000);
      }
      publisher = await this.#deps.openPublisher({
        stepId,
        secrets: Object.values(secrets),
        outputLimitBytes: limits.outputBytes,
        attempt,
      });
      await publisher.status({ status: 'running', attempt: row.attempts, workerId: this.#deps.workerId });
      log.info({ agentId: spec.agentId, image, attempt: row.attempts }, 'step started');
      await delivery.log(`attempt ${row.attempts} started on worker ${this.#deps.workerId}`);
      if (row.cancelRequestedAt) this.#deps.running.stop(stepId, 'cancel');
      if (spec.kind === 'chat' && !this.#chat) {
        throw new EngineError('CHAT_UNAVAILABLE', 'this worker records no chat sessions', {
          context: { stepId },
        });
      }
      const runtimeFiles = (await this.#chat?.before(spec)) ?? [];
      const ran = await runStepAttempt(
        this.#deps.sandbox,
        {
          spec,
          image,
          attempt: row.attempts,
          workerId: this.#deps.workerId,
          secrets,
          limits,
          stopGraceMs: this.#deps.stopGraceMs,
          fleet: this.#deps.fleet,
          runtimeFiles,
          publisher,
          signal,
        },
        this.#deps.metrics,
      );
      const { run } = ran;
      const outcome = classify(run);
      if (outcome === 'handback') return await this.#handBack(stepId, attempt, publisher, log);
      if (outcome.status === 'succeeded')
        await this.#store('chat reply', async () => this.#chat?.after(spec, ran.runtime, ran.stdout));
      await this.#finish(stepId, { ...outcome, run, result: ran.runtime, attempt }, publisher);
      await this.#logOutput(delivery, publisher, log);
      const tail =
        outcome.status === 'succeeded' ? undefined : publisher.capturedOutput.slice(-OUTPUT_TAIL_CHARS);
      log.info(
        { status: outcome.status, exitCode: outcome.exitCode, oomKilled: run.oomKilled, outputTail: tail },
        'step finished',
      );
      await delivery.log(`finished ${outcome.status} (exit code ${outcome.exitCode ?? 'none'})`);
      return summary(outcome.status, outcome.exitCode);
    } catch (error) {
      if (error instanceof HandBackError || error instanceof DeferError) throw error;
      if (isFenced(error)) {
        // Another attempt owns the step now (this delivery's job stalled and was redelivered):
        // whatever this one saw, it records and publishes nothing.
        log.warn({ err: error }, 'stale attempt stopped: a newer attempt owns the step');
        return summary('stale', null);
      }
      // Stopped before its container started (the sandbox rejects with ABORTED): the same outcome
      // as a stop while it ran, not an infrastructure error.
      if (isSandboxError(error, 'ABORTED') && signal.aborted) {
        if (signal.reason === 'shutdown') return await this.#handBack(stepId, attempt, publisher, log);
        await this.#finish(stepId, { status: 'cancelled', exitCode: null, attempt }, publisher);
        log.info({ status: 'cancelled' }, 'step cancelled before its container started');
        return summary('cancelled', null);
      }
      const failure = asSandfleetError(error, stepId);
      if (failure.retryable && delivery.attempt < delivery.maxAttempts) {
        log.warn({ err: failure, code: failure.code }, 'step attempt failed; will retry');
        this.#deps.metrics?.stepRetried(failure.code);
        await this.#deps.steps.markQueued({ id: stepId, error: failure.message, attempt });
        await publisher?.status({ status: 'queued', message: `retrying: ${failure.message}` });
        throw failure;
      }
      log.error({ err: failure, code: failure.code }, 'step ended in error');
      await this.#finish(stepId, { status: 'error', exitCode: null, error: failure, attempt }, publisher);
      if (publisher) await this.#logOutput(delivery, publisher, log);
      throw new SandfleetError(failure.code, failure.message, {
        cause: failure,
        retryable: false,
        context: { stepId },
      });
    } finally {
      await lease?.release().catch((err: unknown) => log.warn({ err }, 'could not release the agent lock'));
      this.#deps.running.unregister(stepId, signal);
      await publisher?.close();
      releaseSecrets();
    }
  }

  /** Validates the job data; an invalid job is recorded as `error` and not retried. */
  async #admit(delivery: StepDelivery): Promise<StepSpec & { id: string }> {
    const { stepId } = delivery;
    const parsed = StepSpec.safeParse(delivery.data);
    let rejection: SandfleetError | undefined;
    if (!parsed.success)
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
      await this.#deps.steps.recordRejected({
        id: stepId,
        data: delivery.data,
        error: error.message,
        errorCode: error.code,
      });
      const publisher = await this.#deps.openPublisher({ stepId, secrets: [], outputLimitBytes: 1024 });
      await publisher.finished({ status: 'error', exitCode: null, error: error.message });
      await publisher.close();
      throw error;
    }
    const spec = { ...parsed.data, id: stepId };
    await this.#store('queued row', () => this.#deps.steps.insertQueued({ id: stepId, spec }));
    return spec;
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

  /** Puts the step back in the queue without spending an attempt (the worker is shutting down). */
  async #handBack(
    stepId: string,
    attempt: number | undefined,
    publisher: StepEventPublisher | undefined,
    log: Logger,
  ): Promise<never> {
    await this.#deps.steps.markQueued({ id: stepId, error: null, attempt });
    await publisher?.status({ status: 'queued', message: 'handed back: worker shutting down' });
    log.info('step handed back');
    throw new HandBackError(stepId);
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
  async #logOutput(delivery: StepDelivery, publisher: StepEventPublisher, log: Logger): Promise<void> {
    try {
      await logOutputToJob(delivery, publisher.capturedOutput);
    } catch (err) {
      log.warn({ err }, 'could not append output to the job log');
    }
  }

  /** Records the terminal state; only the call that makes the transition publishes `finished`. */
  async #finish(stepId: string, finish: Finish, publisher: StepEventPublisher | undefined): Promise<void> {
    const { run, error } = finish;
    const row = await this.#store('step outcome', () =>
      this.#deps.steps.markFinished({
        id: stepId,
        status: finish.status,
        exitCode: finish.exitCode,
        output: publisher?.capturedOutput ?? '',
        outputBytes: publisher?.outputBytes ?? 0,
        outputTruncated: publisher?.truncated ?? false,
        oomKilled: run?.oomKilled ?? false,
        error: error?.message ?? null,
        errorCode: error?.code ?? null,
        imageId: run?.imageId ?? null,
        ...(finish.result === undefined ? {} : { result: finish.result }),
        ...(finish.attempt === undefined ? {} : { attempt: finish.attempt }),
      }),
    );
    if (!row) return;
    this.#deps.metrics?.stepFinished(finish.status, (row.durationMs ?? 0) / 1000);
    this.#deps.metrics?.addOutputBytes(publisher?.outputBytes ?? 0);
    const events =
      publisher ?? (await this.#deps.openPublisher({ stepId, secrets: [], outputLimitBytes: 1024 }));
    await events.finished({
      status: finish.status,
      exitCode: finish.exitCode,
      error: error?.message,
      oomKilled: run?.oomKilled,
      durationMs: row.durationMs ?? undefined,
    });
    if (!publisher) await events.close();
  }
}

function isFenced(error: unknown): boolean {
  return error instanceof SandfleetError && error.code === 'STREAM_ATTEMPT_FENCED';
}

function classify(run: SandboxRunResult): Omit<Finish, 'run'> | 'handback' {
  switch (run.stopReason) {
    case 'shutdown':
      return 'handback';
    case 'cancel':
      return { status: 'cancelled', exitCode: run.exitCode };
    case 'timeout':
      return { status: 'timed_out', exitCode: run.exitCode };
    case undefined:
      return { status: run.exitCode === 0 ? 'succeeded' : 'failed', exitCode: run.exitCode };
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
