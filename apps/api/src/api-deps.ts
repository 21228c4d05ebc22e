import type { ApiToken } from '@sandfleet/config';
import type { ChatRepository, StepRepository } from '@sandfleet/db';
import type { Logger } from '@sandfleet/logging';
import type { SandfleetMetrics } from '@sandfleet/metrics';
import type { StepQueue, WarmHintQueue } from '@sandfleet/queue';
import type { StepCanceller, TokenQuotas } from '@sandfleet/steps';
import type { EventSubscriber } from '@sandfleet/stream';

/** @defaultValue of {@link ApiDeps.bodyLimitBytes}: 12 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 12 * 1024 * 1024;
/** @defaultValue of {@link ApiDeps.batchBodyLimitBytes}: 32 MiB. */
export const DEFAULT_BATCH_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
/** @defaultValue of {@link ApiDeps.heartbeatMs}: an SSE comment every 15 s keeps proxies from timing out. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Who may call the API. */
export interface AuthOptions {
  /**
   * Bearer tokens accepted (only their SHA-256 digests are kept): text ones are unrestricted
   * (`env-1`, `env-2`, …), `ApiToken`s (`loadApiTokens` of `@sandfleet/config`) keep their name,
   * scope and quotas.
   */
  tokens: readonly (string | ApiToken)[];
  /**
   * Serve without authentication when `tokens` is empty. `startApi` honours it only on a
   * loopback host. @defaultValue false
   */
  allowNoAuth?: boolean;
}

/** Everything `buildApp` wires together; the caller owns (and closes) each of them. */
export interface ApiDeps {
  /** The steps table and PostgreSQL's reachability. */
  db: {
    steps: Pick<
      StepRepository,
      'get' | 'getStates' | 'list' | 'countByStatus' | 'insertQueued' | 'deleteQueued' | 'countUnfinished'
    >;
    chats: Pick<ChatRepository, 'list' | 'claimSession' | 'sessionOwner'>;
    ping(): Promise<void>;
  };
  /** The producer side of the steps queue; `.queue` is shown in Bull Board. */
  queue: Pick<StepQueue, 'enqueue' | 'enqueueMany' | 'jobState' | 'counts' | 'queue'>;
  /** The producer side of the fleet's warm-hints queue (`POST /v1/agents/{agentId}/warm`). */
  warmHints: Pick<WarmHintQueue, 'add'>;
  /** Follows step events for SSE (replay, then live). */
  subscriber: Pick<EventSubscriber, 'follow'>;
  /** Cancels a step (`@sandfleet/steps`): a queued one at once, a running one through its worker. */
  canceller: Pick<StepCanceller, 'cancel'>;
  /**
   * Resolves when Redis answers (for `/readyz`). Give it a connection of its own: behind the
   * replies of many event streams a shared one answers late while Redis is fine.
   */
  pingRedis(): Promise<unknown>;
  /** Resolves when PostgreSQL answers (for `/readyz`), best on a connection of its own. @defaultValue `db.ping` */
  pingPostgres?(): Promise<unknown>;
  /** Per-token quotas' state (create rate). @defaultValue a new `TokenQuotas` */
  quotas?: TokenQuotas;
  /** Caps on open event streams, per token and in total (429 `RATE_LIMITED` past them). */
  sseLimits?: { maxPerToken?: number; maxTotal?: number };
  /**
   * Where HTTP request metrics go and what `/metrics` renders. `buildApp` registers queue depth
   * and steps by status on it. @defaultValue a new `SandfleetMetrics`
   */
  metrics?: SandfleetMetrics;
  logger: Logger;
  auth: AuthOptions;
  /** Largest request body, bytes; larger ones get 413. @defaultValue {@link DEFAULT_BODY_LIMIT_BYTES} */
  bodyLimitBytes?: number;
  /**
   * Most steps one `POST /v1/steps/batch` may hold (more: 400 `VALIDATION_FAILED`).
   * @defaultValue `DEFAULT_BATCH_MAX_STEPS` of `@sandfleet/contracts` (1000)
   */
  batchMaxSteps?: number;
  /**
   * Largest body of `POST /v1/steps/batch`, bytes (413 past it); `bodyLimitBytes` is every other
   * route's. @defaultValue {@link DEFAULT_BATCH_BODY_LIMIT_BYTES}
   */
  batchBodyLimitBytes?: number;
  /** Interval of SSE heartbeat comments, ms. @defaultValue {@link DEFAULT_HEARTBEAT_MS} */
  heartbeatMs?: number;
  /**
   * Fastify's `trustProxy`: whose `X-Forwarded-*` headers set `request.ip`, `.protocol` and `.host`
   * (login rate limit, the `Secure` cookie, the same-origin check). @defaultValue false
   */
  trustProxy?: boolean | number | string;
}
