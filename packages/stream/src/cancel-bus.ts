import { CancelMessage, DEFAULT_FLEET_NAMES, type FleetNames } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';
import { StreamError } from './errors.js';

/** Called with the id of a step whose cancellation was requested. */
export type CancelHandler = (stepId: string) => void;

/** Options of {@link CancelBus}. */
export interface CancelBusOptions {
  /** Command connection used to PUBLISH; not closed by the bus. */
  redis: Redis;
  /**
   * Connection dedicated to the bus's SUBSCRIBE; not closed by `close()`. When omitted, one is
   * duplicated from `redis` on the first `subscribe()` and closed by `close()`.
   */
  subscriber?: Redis;
  /** Names of the bus's fleet: only its workers hear its cancels. @defaultValue the default fleet's (`sandfleet:cancel`) */
  names?: FleetNames;
  /**
   * Receives what a handler throws. When omitted the error is re-thrown asynchronously (an
   * uncaught exception, as with a throwing EventEmitter listener); other handlers still run.
   */
  onError?: (error: unknown, stepId: string) => void;
}

/**
 * Cancel requests over pub/sub on the fleet's `<prefix>:cancel`: the API publishes, every worker of the fleet subscribes
 * and stops the step if it runs it. Fire-and-forget: a worker that is not subscribed when the
 * message is sent never sees it, so the durable record of the request lives elsewhere (the DB).
 */
export class CancelBus {
  readonly #redis: Redis;
  /** The fleet's cancel channel. */
  readonly #channel: string;
  readonly #onError: ((error: unknown, stepId: string) => void) | undefined;
  readonly #handlers = new Set<CancelHandler>();
  #subscriber: Redis | undefined;
  readonly #ownsSubscriber: boolean;
  #subscribed: Promise<unknown> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: CancelBusOptions) {
    this.#redis = options.redis;
    this.#channel = (options.names ?? DEFAULT_FLEET_NAMES).cancel();
    this.#subscriber = options.subscriber;
    this.#ownsSubscriber = !options.subscriber;
    this.#onError = options.onError;
  }

  /**
   * Requests cancellation of `stepId`; resolves with the number of subscribed workers reached.
   * @throws StreamError `STREAM_WRITE_FAILED`.
   */
  async publish(stepId: string): Promise<number> {
    const message: CancelMessage = { stepId };
    try {
      return await this.#redis.publish(this.#channel, JSON.stringify(message));
    } catch (cause) {
      throw new StreamError('STREAM_WRITE_FAILED', `publishing cancel of step ${stepId} failed`, {
        cause,
        context: { stepId },
      });
    }
  }

  /**
   * Calls `handler` for every cancel request from now on; resolves once subscribed. Malformed
   * messages are ignored.
   * @throws StreamError `STREAM_SUBSCRIBE_FAILED`, `STREAM_SUBSCRIBER_CLOSED`.
   */
  async subscribe(handler: CancelHandler): Promise<void> {
    if (this.#closed) throw new StreamError('STREAM_SUBSCRIBER_CLOSED', 'cancel bus is closed');
    this.#handlers.add(handler);
    if (!this.#subscribed) {
      this.#subscriber ??= this.#redis.duplicate();
      this.#subscriber.on('message', this.#onMessage);
      this.#subscribed = this.#subscriber.subscribe(this.#channel);
    }
    try {
      await this.#subscribed;
    } catch (cause) {
      this.#handlers.delete(handler);
      throw new StreamError('STREAM_SUBSCRIBE_FAILED', 'subscribing to cancel requests failed', { cause });
    }
  }

  /** Stops delivering and releases the subscriber connection. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#handlers.clear();
    const subscriber = this.#subscriber;
    if (!subscriber) return;
    subscriber.off('message', this.#onMessage);
    if (this.#ownsSubscriber) {
      await subscriber.quit().catch(() => subscriber.disconnect());
    } else if (this.#subscribed) {
      await subscriber.unsubscribe(this.#channel).catch(() => undefined);
    }
  }

  readonly #onMessage = (channel: string, raw: string): void => {
    if (channel !== this.#channel) return;
    let message: CancelMessage;
    try {
      message = CancelMessage.parse(JSON.parse(raw));
    } catch {
      return;
    }
    for (const handler of this.#handlers) {
      try {
        handler(message.stepId);
      } catch (error) {
        if (this.#onError) this.#onError(error, message.stepId);
        else
          queueMicrotask(() => {
            throw error;
          });
      }
    }
  };
}
