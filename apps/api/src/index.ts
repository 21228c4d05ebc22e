export {
  type ApiDeps,
  type AuthOptions,
  DEFAULT_BATCH_BODY_LIMIT_BYTES,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HEARTBEAT_MS,
} from './api-deps.js';
export {
  AFTER_LOGIN_PATH,
  type AuthPluginOptions,
  authPlugin,
  SESSION_COOKIE,
  SESSION_MAX_AGE_SECONDS,
} from './auth/auth-plugin.js';
export { TokenVerifier } from './auth/token-verifier.js';
export { BOARD_PREFIX, type BoardPluginOptions, boardPlugin } from './board-plugin.js';
export { buildApp, CLOSE_GRACE_MS } from './build-app.js';
export { DOCS_PREFIX, docsPlugin } from './docs-plugin.js';
export { errorBody, handleError, STATUS_BY_CODE, statusOf, toApiError } from './error-handler.js';
export { ApiError, type ApiErrorCode, type ApiErrorOptions } from './errors.js';
export { type EventsPluginOptions, eventsPlugin } from './events/events-plugin.js';
export { type HealthPluginOptions, healthPlugin, READY_CHECK_TIMEOUT_MS } from './health-plugin.js';
export { type MetricsPluginOptions, metricsPlugin } from './metrics-plugin.js';
export { PUBLIC_ROUTE } from './route-config.js';
export { API_STOP_DEADLINE_MS, runApiProcess } from './run-api-process.js';
export {
  assertAuthConfig,
  LOOPBACK_HOSTS,
  type RunningApi,
  type StartApiOptions,
  startApi,
} from './start-api.js';
export { IDEMPOTENCY_KEY_HEADER, idempotencyKey } from './steps/idempotency-key.js';
export { type StepsPluginOptions, stepsPlugin } from './steps/steps-plugin.js';
