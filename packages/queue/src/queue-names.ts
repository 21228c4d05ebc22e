import { QUEUE_NAME, QUEUE_PREFIX, warmHintQueueName } from '@sandfleet/contracts';

/** Where the steps queue lives. Production uses the contract defaults; tests isolate with a random prefix. */
export interface QueueLocation {
  /** @defaultValue `sandfleet` */
  prefix?: string;
  /** @defaultValue `steps` */
  name?: string;
}

export function resolveQueueLocation(location: QueueLocation = {}): Required<QueueLocation> {
  return { prefix: location.prefix ?? QUEUE_PREFIX, name: location.name ?? QUEUE_NAME };
}

/**
 * Where the warm hints of the fleet whose steps queue is at `location` live: the same prefix, the
 * queue `warmHintQueueName(name)` (`sandfleet` / `steps-warm-hints` by default).
 */
export function resolveWarmHintQueueLocation(location: QueueLocation = {}): Required<QueueLocation> {
  const { prefix, name } = resolveQueueLocation(location);
  return { prefix, name: warmHintQueueName(name) };
}
