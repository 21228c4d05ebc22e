export { CancelBus, type CancelBusOptions, type CancelHandler } from './cancel-bus.js';
export { StreamError, type StreamErrorCode, type StreamErrorOptions } from './errors.js';
export {
  DEFAULT_MAX_BUFFERED_BYTES,
  EventSubscriber,
  type EventSubscriberOptions,
  type FollowOptions,
} from './event-subscriber.js';
export { type ReadEventsOptions, readEvents, replayEvents } from './read-events.js';
export { MIN_SECRET_LENGTH, REDACTED, RedactionStream, Redactor } from './redactor.js';
export { StepEventPublisher } from './step-event-publisher.js';
export {
  DEFAULT_FINISHED_TTL_SECONDS,
  DEFAULT_FLUSH_BYTES,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_STREAM_MAX_LEN,
  type FinishedBody,
  type StatusBody,
  type StepEventPublisherOptions,
} from './step-event-publisher-options.js';
