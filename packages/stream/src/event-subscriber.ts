import { DEFAULT_FLEET_NAMES, type FleetNames, StepEvent } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';
import { assertIntOption, StreamError } from './errors.js';
import { FollowerQueue } from './follower-queue.js';
import { replayEvents } from './read-events.js';

/** Live event bytes buffered per follower before it falls back to catching up from the stream. */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** Options of {@link EventSubscriber}. */
export interface EventSubscriberOptions {
  /** Command connection used to replay events (XRANGE); not closed by the subscriber. */
  redis: Redis;
  /**
   * Connection dedicated to this subscriber's SUBSCRIBEs (nothing else may use it); not closed
   * by `close()`. When omitted, one is duplicated from `redis` and closed by `close()`.
   */
  subscriber?: Redis;
  /** Names of the followed steps' fleet. @defaultValue the default fleet's (`sandfleet:events:{stepId}`) */
  names?: FleetNames;
  /** Live event bytes buffered per follower. @defaultValue {@link DEFAULT_MAX_BUFFERED_BYTES} */
  maxBufferedBytes?: number;
}

/** Options of {@link EventSubscriber.follow}. */
export interface FollowOptions {
  /** Yield only events with a greater seq (e.g. an SSE `Last-Event-ID`). @defaultValue 0 */
  afterSeq?: number;
  /** Ends the iteration (without an error) when aborted. */
  signal?: AbortSignal;
}

interface Channel {
  followers: Set<FollowerQueue>;
  subscribed: Promise<unknown>;
}

/**
 * Follows the events of many steps over ONE pub/sub connection. Each follower subscribes
 * first, then replays the stream, then yields live events, so nothing is lost or repeated at
 * the seam; seq gaps in live delivery (missed messages, a reconnect) are filled from the stream.
 *
 * A slow consumer does not make memory grow: past `maxBufferedBytes` of waiting live events its
 * buffer is dropped and it catches up from the replay stream. Only if the stream itself was
 * trimmed past its position (more than `streamMaxLen` events behind) does it skip ahead.
 */
export class EventSubscriber {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #ownsSubscriber: boolean;
  readonly #names: FleetNames;
  readonly #maxBufferedBytes: number;
  readonly #channels = new Map<string, Channel>();
  #wasReady: boolean;
  #closed: Promise<void> | undefined;

  constructor(options: EventSubscriberOptions) {
    this.#redis = options.redis;
    this.#ownsSubscriber = !options.subscriber;
    this.#subscriber = options.subscriber ?? options.redis.duplicate();
    this.#names = options.names ?? DEFAULT_FLEET_NAMES;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    assertIntOption('maxBufferedBytes', this.#maxBufferedBytes, 1);
    this.#wasReady = this.#subscriber.status === 'ready';
    this.#subscriber.on('message', this.#onMessage);
    this.#subscriber.on('ready', this.#onReady);
  }

  /** Steps currently followed by at least one follower. */
  get followedSteps(): number {
    return this.#channels.size;
  }

  /**
   * Yields the events of `stepId` with seq greater than `afterSeq`, in seq order, each once:
   * the retained ones from the replay stream, then live ones. Ends after yielding the
   * `finished` event (right after the replay if the step already finished), when `signal`
   * aborts, or when the subscriber closes. Waits for events of a step that has none yet.
   * @throws StreamError `STREAM_SUBSCRIBER_CLOSED`, `STREAM_SUBSCRIBE_FAILED`, `STREAM_READ_FAILED`.
   */
  async *follow(stepId: string, options: FollowOptions = {}): AsyncGenerator<StepEvent, void, undefined> {
    if (this.#closed) {
      throw new StreamError('STREAM_SUBSCRIBER_CLOSED', 'event subscriber is closed', {
        context: { stepId },
      });
    }
    const queue = new FollowerQueue(this.#maxBufferedBytes, options.signal);
    const channel = this.#names.events(stepId);
    try {
      await this.#join(channel, queue, stepId);
      let last = yield* this.#replay(stepId, options.afterSeq ?? 0, queue);
      while (!queue.stopped) {
        const event = await queue.next();
        if (!event) {
          if (queue.takeLagging()) last = yield* this.#replay(stepId, last, queue);
          continue;
        }
        if (event.seq <= last) continue;
        if (event.seq > last + 1) {
          // A live message went missing: the stream has it. If the stream lost it too, move on.
          last = yield* this.#replay(stepId, last, queue);
          if (queue.stopped || event.seq <= last) continue;
        }
        last = event.seq;
        yield event;
        if (event.type === 'finished') return;
      }
    } finally {
      queue.dispose();
      await this.#leave(channel, queue);
    }
  }

  /**
   * Ends every follower and releases the subscriber connection (closing it when it was
   * duplicated here). Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    const channels = [...this.#channels.keys()];
    for (const { followers } of this.#channels.values()) for (const queue of followers) queue.stop();
    this.#channels.clear();
    this.#subscriber.off('message', this.#onMessage);
    this.#subscriber.off('ready', this.#onReady);
    if (this.#ownsSubscriber) {
      await this.#subscriber.quit().catch(() => this.#subscriber.disconnect());
    } else if (channels.length > 0) {
      await this.#subscriber.unsubscribe(...channels).catch(() => undefined);
    }
  }

  /** Yields stream events after `after` not yet yielded; returns the last seq yielded. */
  async *#replay(
    stepId: string,
    after: number,
    queue: FollowerQueue,
  ): AsyncGenerator<StepEvent, number, undefined> {
    let last = after;
    for await (const event of replayEvents({
      redis: this.#redis,
      names: this.#names,
      stepId,
      afterSeq: after,
    })) {
      if (queue.stopped) break;
      if (event.seq <= last) continue;
      last = event.seq;
      yield event;
      if (event.type === 'finished') {
        queue.stop();
        break;
      }
    }
    return last;
  }

  async #join(channel: string, queue: FollowerQueue, stepId: string): Promise<void> {
    let entry = this.#channels.get(channel);
    if (!entry) {
      entry = {
        followers: new Set(),
        subscribed: this.#connected().then(() => this.#subscriber.subscribe(channel)),
      };
      this.#channels.set(channel, entry);
    }
    entry.followers.add(queue);
    try {
      await entry.subscribed;
    } catch (cause) {
      if (queue.stopped) return; // closed while subscribing: the follower just ends
      throw new StreamError('STREAM_SUBSCRIBE_FAILED', `subscribing to events of step ${stepId} failed`, {
        cause,
        context: { stepId },
      });
    }
  }

  /**
   * Resolves once the subscriber connection is past its ready check. ioredis writes SUBSCRIBE
   * at once while the connection is in status `connect` (connected, ready check running), which
   * puts it in subscriber mode before the check's INFO: the check then fails ("Connection in
   * subscriber mode") and the subscription is lost. In any other status the command is either
   * written to a ready connection or queued until it is ready.
   */
  #connected(): Promise<void> {
    const connection = this.#subscriber;
    if (connection.status !== 'connect') return Promise.resolve();
    return new Promise((resolve) => {
      const settle = () => {
        for (const event of ['ready', 'close', 'end'] as const) connection.off(event, settle);
        resolve();
      };
      for (const event of ['ready', 'close', 'end'] as const) connection.on(event, settle);
    });
  }

  async #leave(channel: string, queue: FollowerQueue): Promise<void> {
    const entry = this.#channels.get(channel);
    if (!entry?.followers.delete(queue) || entry.followers.size > 0) return;
    this.#channels.delete(channel);
    // Commands on one connection run in order, so a follower joining meanwhile re-subscribes after this.
    await this.#subscriber.unsubscribe(channel).catch(() => undefined);
  }

  readonly #onMessage = (channel: string, message: string): void => {
    const entry = this.#channels.get(channel);
    if (!entry) return;
    let event: StepEvent;
    try {
      event = StepEvent.parse(JSON.parse(message));
    } catch {
      return; // Not ours to crash on: anyone can PUBLISH on the channel. Replay is authoritative.
    }
    for (const queue of entry.followers) queue.push(event, message.length);
  };

  /** After a reconnect, messages may have been missed: every follower catches up from the stream. */
  readonly #onReady = (): void => {
    if (!this.#wasReady) {
      this.#wasReady = true;
      return;
    }
    const channels = [...this.#channels.keys()];
    if (channels.length === 0) return;
    this.#subscriber.subscribe(...channels).then(
      () => {
        for (const { followers } of this.#channels.values())
          for (const queue of followers) queue.markLagging();
      },
      () => undefined,
    );
  };
}
