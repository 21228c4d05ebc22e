export * from './api-types.js';
export * from './client-options.js';
export * from './errors.js';
export * from './sandfleet-client.js';
export * from './sse-messages.js';
export { followStepEvents, type StepEventStreamOptions, toStepEvent } from './step-event-stream.js';
