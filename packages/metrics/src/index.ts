export {
  type CollectSourceName,
  type CountsSource,
  type HttpRequestObservation,
  SandfleetMetrics,
  type SandfleetMetricsOptions,
} from './sandfleet-metrics.js';
export { type MetricsServer, type ServeMetricsOptions, serveMetrics } from './serve-metrics.js';
export type { ContainerPhaseTimings, StepRunMetrics } from './step-run-metrics.js';
