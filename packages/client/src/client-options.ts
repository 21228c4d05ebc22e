/** @defaultValue of {@link SandfleetClientOptions.requestTimeoutMs}: 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * @defaultValue of {@link SandfleetClientOptions.eventIdleTimeoutMs}: 60 s, four API heartbeats
 * (`SANDFLEET_API_HEARTBEAT_MS`, 15 s), so only a connection that died silently trips it.
 */
export const DEFAULT_EVENT_IDLE_TIMEOUT_MS = 60_000;
/** @defaultValue of {@link ReconnectOptions}. */
export const DEFAULT_RECONNECT: Readonly<Required<ReconnectOptions>> = Object.freeze({
  attempts: 5,
  initialDelayMs: 250,
  maxDelayMs: 5000,
});

/** How an event stream that broke off before `finished` is resumed. */
export interface ReconnectOptions {
  /**
   * Reconnections in a row that bring no new event before giving up (the count restarts after
   * every connection that brought one). @defaultValue 5
   */
  attempts?: number;
  /** Pause before the first reconnection, doubled for each next one, ms. @defaultValue 250 */
  initialDelayMs?: number;
  /** Longest pause between reconnections, ms. @defaultValue 5000 */
  maxDelayMs?: number;
}

/** Options of `new SandfleetClient(…)`. */
export interface SandfleetClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** Bearer token, one of the API's `SANDFLEET_API_TOKENS`; omit for an API without auth. */
  token?: string;
  /** The fetch to use (tests, proxies, other runtimes). @defaultValue `globalThis.fetch` */
  fetch?: typeof fetch;
  /** Longest wait for the answer of one request (not event streams), ms. @defaultValue 30000 */
  requestTimeoutMs?: number;
  /**
   * An event stream bringing nothing, not even a heartbeat comment, for this long is taken as
   * dead and resumed on a new connection, ms. @defaultValue {@link DEFAULT_EVENT_IDLE_TIMEOUT_MS}
   */
  eventIdleTimeoutMs?: number;
  /** Reconnection of event streams. @defaultValue {@link DEFAULT_RECONNECT} */
  reconnect?: ReconnectOptions;
}
