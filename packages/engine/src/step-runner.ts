import {
  commandArgv,
  SandfleetError,
  type StepJobResult,
  StepSpec,
  type TerminalStatus,
  toFieldIssues,
  ValidationError,
} from '@sandfleet/contracts';
import type { StepRecord, StepRepository } from '@sandfleet/db';
import { type Logger, withSecrets } from '@sandfleet/logging';
import type { StepRunMetrics } from '@sandfleet/metrics';
import { HandBackError, type StepDelivery } from '@sandfleet/queue';
import { isSandboxError, type Sandbox, type SandboxRunResult } from '@sandfleet/sandbox';
import type { StepEventPublisher } from '@sandfleet/stream';
import { EngineError } from './errors.js';
import type { ImageAllowlist } from './image-allowlist.js';
import { logOutputToJob } from './job-log-output.js';
import type { RunningSteps } from './running-steps.js';
import type { SecretResolver } from './secret-resolver.js';
import { type LimitPolicy, type ResolvedLimits, resolveLimits } from './step-limits.js';

/** Opens the event publisher of one step attempt. */
export type OpenPublisher = (options: {
  stepId: string;
  secrets: string[];
  outputLimitBytes: number;
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
}

/** Output logged with a step that did not succeed, for operators reading worker logs. */
const OUTPUT_TAIL_CHARS = 512;

interface Finish {
  status: TerminalStatus;
  exitCode: number | null;
  error?: SandfleetError;
  run?: SandboxRunResult;
}

/**
 * Runs one delivery of a step job: validate, record `running`, run the container, stream its
 * output, record the outcome. Step failures are final; infrastructure failures are retried by the
 * queue until the job's attempts are spent, then end `error`.
 */
export class StepRunner {
  readonly #deps: StepRunnerDeps;

  constructor(deps: StepRunnerDeps) {
    this.#deps = deps;
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
    const existing = await this.#deps.steps.get(stepId);
    if (existing && isFinal(existing)) return summary(existing.status, existing.exitCode);
    if (existing?.cancelRequestedAt) {
      await this.#finish(stepId, { status: 'cancelled', exitCode: null }, undefined);
      return summary('cancelled', null);
    }
    const signal = this.#deps.running.register(stepId);
    try {
      const image = spec.image ?? this.#deps.defaultImage;
      this.#deps.images.assertAllowed(image, stepId);
      const secrets = await this.#deps.secrets.resolve(spec.secrets, stepId);
      const scope = withSecrets(log, Object.values(secrets));
      log = scope.logger;
      releaseSecrets = () => scope.release();
      const limits = resolveLimits(spec.limits, this.#deps.limits);
      const row = await this.#deps.steps.markRunning({ id: stepId, workerId: this.#deps.workerId });
      if (!row) return summary('skipped', null);
      if (row.attempts === 1 && row.startedAt) {
        this.#deps.metrics?.observeQueueWait((row.startedAt.getTime() - row.createdAt.getTime()) / 1000);
      }
      publisher = await this.#deps.openPublisher({
        stepId,
        secrets: Object.values(secrets),
        outputLimitBytes: limits.outputBytes,
      });
      await publisher.status({ status: 'running', attempt: row.attempts, workerId: this.#deps.workerId });
      log.info({ agentId: spec.agentId, image, attempt: row.attempts }, 'step started');
      await delivery.log(`attempt ${row.attempts} started on worker ${this.#deps.workerId}`);
      if (row.cancelRequestedAt) this.#deps.running.stop(stepId, 'cancel');
      const run = await this.#run(spec, image, secrets, limits, row.attempts, publisher, signal);
      const outcome = classify(run);
      if (outcome === 'handback') {
        await this.#deps.steps.markQueued({ id: stepId, error: null });
        await publisher.status({ status: 'queued', message: 'handed back: worker shutting down' });
        log.info('step handed back');
        throw new HandBackError(stepId);
      }
      await this.#finish(stepId, { ...outcome, run }, publisher);
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
      if (error instanceof HandBackError) throw error;
      // Stopped before its container started (the sandbox rejects with ABORTED): the same outcome
      // as a stop while it ran, not an infrastructure error.
      if (isSandboxError(error, 'ABORTED') && signal.aborted) {
        if (signal.reason === 'shutdown') {
          await this.#deps.steps.markQueued({ id: stepId, error: null });
          await publisher?.status({ status: 'queued', message: 'handed back: worker shutting down' });
          throw new HandBackError(stepId);
        }
        await this.#finish(stepId, { status: 'cancelled', exitCode: null }, publisher);
        log.info({ status: 'cancelled' }, 'step cancelled before its container started');
        return summary('cancelled', null);
      }
      const failure = asSandfleetError(error, stepId);
      if (failure.retryable && delivery.attempt < delivery.maxAttempts) {
        log.warn({ err: failure, code: failure.code }, 'step attempt failed; will retry');
        await this.#deps.steps.markQueued({ id: stepId, error: failure.message });
        await publisher?.status({ status: 'queued', message: `retrying: ${failure.message}` });
        throw failure;
      }
      log.error({ err: failure, code: failure.code }, 'step ended in error');
      await this.#finish(stepId, { status: 'error', exitCode: null, error: failure }, publisher);
      if (publisher) await this.#logOutput(delivery, publisher, log);
      throw new SandfleetError(failure.code, failure.message, {
        cause: failure,
        retryable: false,
        context: { stepId },
      });
    } finally {
      this.#deps.running.unregister(stepId, signal);
      await publisher?.close();
      releaseSecrets();
    }
  }

  /** Validates the job data; an invalid job is recorded as `error` and not retried. */
  async #admit(delivery: StepDelivery): Promise<StepSpec> {
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
    await this.#deps.steps.insertQueued({ id: stepId, spec });
    return spec;
  }

  #run(
    spec: StepSpec,
    image: string,
    secrets: Record<string, string>,
    limits: ResolvedLimits,
    attempt: number,
    publisher: StepEventPublisher,
    signal: AbortSignal,
  ): Promise<SandboxRunResult> {
    const stepId = spec.id as string;
    const { metrics, workerId } = this.#deps;
    const input =
      spec.input === undefined
        ? undefined
        : typeof spec.input === 'string'
          ? spec.input
          : JSON.stringify(spec.input);
    metrics?.containerStarted(workerId);
    const run = this.#deps.sandbox.run(
      {
        stepId,
        agentId: spec.agentId,
        workerId,
        attempt,
        image,
        argv: commandArgv(spec.command),
        env: { ...spec.env, ...runtimeEnv(spec, attempt), ...secrets },
        files: spec.files,
        input,
        limits,
        network: spec.network,
        stopGraceMs: this.#deps.stopGraceMs,
      },
      { onOutput: (stream, chunk) => publisher.output(stream, chunk), signal },
    );
    return run.then(
      (result) => {
        metrics?.containerStopped(workerId);
        metrics?.observeContainerPhases(result.timings);
        return result;
      },
      (error: unknown) => {
        metrics?.containerStopped(workerId);
        throw error;
      },
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
    const row = await this.#deps.steps.markFinished({
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
    });
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

function isFinal(row: StepRecord): boolean {
  return ['succeeded', 'failed', 'timed_out', 'cancelled', 'error'].includes(row.status);
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

function runtimeEnv(spec: StepSpec, attempt: number): Record<string, string> {
  const env: Record<string, string> = {
    SANDFLEET_STEP_ID: spec.id as string,
    SANDFLEET_AGENT_ID: spec.agentId,
    SANDFLEET_KIND: spec.kind,
    SANDFLEET_ATTEMPT: String(attempt),
  };
  if (spec.runId) env.SANDFLEET_RUN_ID = spec.runId;
  if (spec.taskId) env.SANDFLEET_TASK_ID = spec.taskId;
  if (spec.chatSessionId) env.SANDFLEET_CHAT_SESSION_ID = spec.chatSessionId;
  return env;
}

function asSandfleetError(error: unknown, stepId: string): SandfleetError {
  if (error instanceof SandfleetError) return error;
  return new SandfleetError('INTERNAL_ERROR', error instanceof Error ? error.message : String(error), {
    cause: error,
    retryable: true,
    context: { stepId },
  });
}
