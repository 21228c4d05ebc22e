import type { ErrorCode, SandfleetError, TerminalStatus } from '@sandfleet/contracts';
import type { StepRecord, StepRepository } from '@sandfleet/db';
import type { StepEventPublisher } from '@sandfleet/stream';

/** Opens the event publisher of one step attempt (or, without `attempt`, of no attempt). */
export type OpenPublisher = (options: {
  stepId: string;
  secrets: string[];
  outputLimitBytes: number;
  /** The attempt publishing: older attempts of the step can publish nothing afterwards. */
  attempt?: number;
}) => Promise<StepEventPublisher>;

/** Runs one PostgreSQL write; a worker passes one that waits out an outage (`recordUntilStored`). */
export type StoreWrite = <T>(what: string, write: () => Promise<T>) => Promise<T>;

/** Dependencies of {@link StepOutcomes}. */
export interface StepOutcomesDeps {
  steps: Pick<StepRepository, 'markFinished' | 'markQueued' | 'recordRejected'>;
  /** Opens the publisher of `finished` when the caller has none open (cancel, queue failures). */
  openPublisher: OpenPublisher;
  /** Runs the terminal-row write. @defaultValue runs it once */
  store?: StoreWrite;
}

/** How a step ended, as {@link StepOutcomes.finish} records it. */
export interface StepOutcome {
  status: TerminalStatus;
  exitCode: number | null;
  /** Why it did not succeed: its message and code are recorded and published. */
  error?: Pick<SandfleetError, 'code' | 'message'>;
  oomKilled?: boolean;
  imageId?: string | null;
  /** The agent runtime's result, recorded as the step's result. */
  result?: unknown;
  /** The attempt recording it (see `MarkFinishedInput.attempt`); none for a step that never started. */
  attempt?: number;
}

/** The attempt handing its step back or retrying it: its row fence and its open publisher. */
export interface RequeueFrom {
  attempt?: number | undefined;
  publisher?: StepEventPublisher | undefined;
}

/** The publisher opened for a `finished` event no attempt owns: it publishes no output. */
const NO_OUTPUT = { secrets: [] as string[], outputLimitBytes: 0 };

/**
 * The one owner of step outcomes: the only code that writes terminal rows and publishes
 * `finished`, and the one that puts a started step back in the queue. Every terminal write is
 * conditional (PostgreSQL's `markFinished`): of concurrent callers exactly one makes the
 * transition, and only that one publishes `finished`.
 */
export class StepOutcomes {
  readonly #deps: StepOutcomesDeps;
  readonly #store: StoreWrite;

  constructor(deps: StepOutcomesDeps) {
    this.#deps = deps;
    this.#store = deps.store ?? ((_what, write) => write());
  }

  /**
   * Records the terminal state (with the output `publisher` captured, when given), then
   * publishes `finished` on `publisher` or on one opened for it. Returns the row when this call
   * made the transition, undefined when the step was already terminal (or a later attempt owns it).
   */
  async finish(
    stepId: string,
    outcome: StepOutcome,
    publisher?: StepEventPublisher,
  ): Promise<StepRecord | undefined> {
    const { error } = outcome;
    const row = await this.#store('step outcome', () =>
      this.#deps.steps.markFinished({
        id: stepId,
        status: outcome.status,
        exitCode: outcome.exitCode,
        ...(publisher
          ? {
              output: publisher.capturedOutput,
              outputBytes: publisher.outputBytes,
              outputTruncated: publisher.truncated,
            }
          : {}),
        ...(outcome.oomKilled === undefined ? {} : { oomKilled: outcome.oomKilled }),
        ...(outcome.imageId === undefined ? {} : { imageId: outcome.imageId }),
        ...(error === undefined ? {} : { error: error.message, errorCode: error.code }),
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
        ...(outcome.attempt === undefined ? {} : { attempt: outcome.attempt }),
      }),
    );
    if (!row) return undefined;
    await this.#publishFinished(stepId, publisher, {
      status: outcome.status,
      exitCode: outcome.exitCode,
      error: error?.message,
      oomKilled: outcome.oomKilled,
      durationMs: row.durationMs ?? undefined,
    });
    return row;
  }

  /** Ends a step no attempt runs here as `cancelled` (a step taken out of the queue). */
  cancel(stepId: string): Promise<StepRecord | undefined> {
    return this.finish(stepId, { status: 'cancelled', exitCode: null });
  }

  /**
   * Ends a step that is not running here in `error` (its job failed in the queue, or was lost).
   * Returns whether this call made the transition.
   */
  async endInError(stepId: string, failure: { code: ErrorCode; message: string }): Promise<boolean> {
    return (await this.finish(stepId, { status: 'error', exitCode: null, error: failure })) !== undefined;
  }

  /**
   * Records a job whose data is no valid step as `error` (inserting its row if need be) and
   * publishes `finished`. Returns whether this call made the transition.
   */
  async reject(
    stepId: string,
    data: unknown,
    error: Pick<SandfleetError, 'code' | 'message'>,
  ): Promise<boolean> {
    const row = await this.#deps.steps.recordRejected({
      id: stepId,
      data,
      error: error.message,
      errorCode: error.code,
    });
    // A redelivered rejected job finds the row already terminal: `finished` is published once.
    if (!row) return false;
    await this.#publishFinished(stepId, undefined, { status: 'error', exitCode: null, error: error.message });
    return true;
  }

  /**
   * Puts a started step back in the queue without spending an attempt (its worker shuts down)
   * and says so on its events. Returns whether the row changed.
   */
  handBack(stepId: string, from: RequeueFrom): Promise<boolean> {
    return this.#requeue(stepId, from, null, 'handed back: worker shutting down');
  }

  /**
   * Puts a step whose attempt failed (retryably) back in the queue, keeping the failure's message
   * on the row, and says so on its events. Returns whether the row changed.
   */
  retry(stepId: string, from: RequeueFrom, failure: Pick<SandfleetError, 'message'>): Promise<boolean> {
    return this.#requeue(stepId, from, failure.message, `retrying: ${failure.message}`);
  }

  async #requeue(stepId: string, from: RequeueFrom, error: string | null, message: string): Promise<boolean> {
    const changed = await this.#deps.steps.markQueued({ id: stepId, error, attempt: from.attempt });
    await from.publisher?.status({ status: 'queued', message });
    return changed;
  }

  async #publishFinished(
    stepId: string,
    publisher: StepEventPublisher | undefined,
    body: Parameters<StepEventPublisher['finished']>[0],
  ): Promise<void> {
    if (publisher) return publisher.finished(body);
    const own = await this.#deps.openPublisher({ stepId, ...NO_OUTPUT });
    try {
      await own.finished(body);
    } finally {
      await own.close();
    }
  }
}
