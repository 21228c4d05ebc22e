export * from './metric-buckets.js';
export * from './sandfleet-metrics.js';
export * from './serve-metrics.js';
export * from './step-run-metrics.js';
