import { DEFAULT_TEAM, LABELS, SandfleetError, type WarmHint } from '@sandfleet/contracts';
import type { Logger } from '@sandfleet/logging';
import { type QueueLocation, WarmHintWorker } from '@sandfleet/queue';
import type { Sandbox, SandboxWarmOutcome, SandboxWarmRequest } from '@sandfleet/sandbox';
import type { ImageAllowlist } from './image-allowlist.js';
import { type LimitPolicy, resolveLimits } from './step-limits.js';

/** What a worker's warm hints need: the settings its steps run with, and the queue. */
export interface WarmHintsDeps {
  workerId: string;
  sandbox: Pick<Sandbox, 'warm'>;
  images: ImageAllowlist;
  defaultImage: string;
  limits: LimitPolicy;
  /** Fleet label of the containers (see `LABELS.fleet`), as its steps' carry. */
  fleet?: string;
  logger: Logger;
  redisUrl: string;
  queue?: QueueLocation;
  /** Hints warmed at once. @defaultValue `DEFAULT_WARM_HINT_CONCURRENCY` of `@sandfleet/queue` (2) */
  concurrency?: number;
}

/**
 * What one hint came to: the sandbox's outcome; `refused`, the image is not in the worker's
 * allowlist; `error`, `sandbox.warm` threw.
 */
export type WarmHintOutcome = SandboxWarmOutcome | 'refused' | 'error';

/**
 * The warm request of `hint`: what this worker's run of a step of the agent naming `hint.image`
 * (else the default image) and no other setting would be made with, so that step is served by the
 * warm container: the worker's default limits, network `none`, the default team's vault read-only,
 * the fleet label.
 * @throws EngineError `IMAGE_NOT_ALLOWED` for an image outside the worker's allowlist, as the step's would.
 */
export function warmRequestFor(
  hint: WarmHint,
  deps: Pick<WarmHintsDeps, 'workerId' | 'images' | 'defaultImage' | 'limits' | 'fleet'>,
): SandboxWarmRequest {
  const image = hint.image ?? deps.defaultImage;
  deps.images.assertAllowed(image, { agentId: hint.agentId });
  return {
    agentId: hint.agentId,
    workerId: deps.workerId,
    image,
    // The run's limits are the resolved ones, `outputBytes` included: the pool compares them whole.
    limits: resolveLimits({}, deps.limits),
    network: 'none',
    sharedVault: { team: DEFAULT_TEAM, writable: false },
    ...(deps.fleet === undefined ? {} : { labels: { [LABELS.fleet]: deps.fleet } }),
  };
}

/**
 * A worker's consumer of its fleet's warm hints (`POST /v1/agents/{agentId}/warm`): each becomes a
 * `sandbox.warm` of {@link warmRequestFor}. Its outcome is logged; no hint fails the worker.
 */
export class WarmHints {
  readonly #deps: WarmHintsDeps;
  readonly #worker: WarmHintWorker;

  constructor(deps: WarmHintsDeps) {
    this.#deps = deps;
    const { logger } = deps;
    this.#worker = new WarmHintWorker({
      ...deps.queue,
      redisUrl: deps.redisUrl,
      workerId: deps.workerId,
      concurrency: deps.concurrency,
      handler: async (hint) => {
        await this.warm(hint);
      },
      onFailed: (err, data) => logger.warn({ err, code: codeOf(err), data }, 'warm hint rejected'),
      onStale: (hint, ageMs) => logger.info({ agentId: hint.agentId, ageMs }, 'warm hint stale; skipped'),
      onError: (err) => logger.error({ err }, 'warm hints queue error'),
    });
  }

  /** Warms for one hint and logs what came of it. Never rejects. */
  async warm(hint: WarmHint): Promise<WarmHintOutcome> {
    const log = this.#deps.logger.child({ agentId: hint.agentId });
    let request: SandboxWarmRequest;
    try {
      request = warmRequestFor(hint, this.#deps);
    } catch (err) {
      log.warn({ err, code: codeOf(err), image: hint.image }, 'warm hint refused');
      return 'refused';
    }
    const startedAt = performance.now();
    try {
      const outcome = await this.#deps.sandbox.warm(request);
      const fields = { image: request.image, outcome, ms: Math.round(performance.now() - startedAt) };
      if (outcome === 'failed') log.warn(fields, 'warm hint handled');
      else log.info(fields, 'warm hint handled');
      return outcome;
    } catch (err) {
      log.error({ err, code: codeOf(err), image: request.image }, 'warm hint failed');
      return 'error';
    }
  }

  /** Starts taking hints. */
  start(): Promise<void> {
    return this.#worker.start();
  }

  /** Waits for the hints being warmed, then stops. Idempotent. */
  close(): Promise<void> {
    return this.#worker.close();
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof SandfleetError ? error.code : undefined;
}
