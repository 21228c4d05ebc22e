import { QUEUE_NAME, QUEUE_PREFIX } from '@sandfleet/contracts';

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
