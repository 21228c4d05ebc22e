import type { StepListFilter, StepPage, StepRecord } from '@sandfleet/client';
import { isTerminalStatus, SandfleetError, type StepEvent } from '@sandfleet/contracts';
import type { StepBackend } from '../backend/step-backend.js';
import type { DirectConnections } from './direct-connections.js';

/**
 * How long following an already finished step waits for its `finished` event before taking its
 * events as expired: the row turns terminal a moment before the event is published. The API's
 * event stream waits as long.
 */
export const FINISHED_GRACE_MS = 5000;

/** Steps straight on Redis and PostgreSQL, as the API itself reaches them. */
export class DirectStepBackend implements StepBackend {
  readonly mode = 'direct';
  readonly #connections: DirectConnections;

  constructor(connections: DirectConnections) {
    this.#connections = connections;
  }

  async enqueue(spec: unknown) {
    return (await this.#connections.queue()).enqueue(spec);
  }

  async *follow(id: string, afterSeq: number): AsyncGenerator<StepEvent, void, undefined> {
    const row = await (await this.#connections.db()).steps.get(id);
    // A step enqueued by a plain BullMQ producer has a job but no row until a worker takes it.
    if (!row && (await (await this.#connections.queue()).jobState(id)) === 'unknown') {
      throw new SandfleetError('STEP_NOT_FOUND', `no step with id ${id}`, { context: { stepId: id } });
    }
    const signal = row && isTerminalStatus(row.status) ? AbortSignal.timeout(FINISHED_GRACE_MS) : undefined;
    yield* (await this.#connections.subscriber()).follow(id, { afterSeq, signal });
  }

  async replay(id: string, afterSeq: number): Promise<StepEvent[]> {
    const [{ readEvents }, redis] = await Promise.all([
      import('@sandfleet/stream'),
      this.#connections.redis(),
    ]);
    return readEvents({ redis, stepId: id, afterSeq });
  }

  async get(id: string): Promise<StepRecord | undefined> {
    const row = await (await this.#connections.db()).steps.get(id);
    return row ? asJson<StepRecord>(row) : undefined;
  }

  async list(filter: StepListFilter): Promise<StepPage> {
    const { label, createdAfter, createdBefore, ...rest } = filter;
    const page = await (await this.#connections.db()).steps.list({
      ...rest,
      label: typeof label === 'string' ? splitLabel(label) : label,
      createdAfter: createdAfter === undefined ? undefined : new Date(createdAfter),
      createdBefore: createdBefore === undefined ? undefined : new Date(createdBefore),
    });
    return { items: asJson(page.items), nextCursor: page.nextCursor ?? null };
  }

  async cancel(id: string) {
    return (await this.#connections.canceller()).cancel(id);
  }
}

/** A row as the API answers it: Dates become ISO strings, undefined fields go. */
function asJson<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function splitLabel(label: string): { key: string; value: string } {
  const colon = label.indexOf(':');
  return { key: label.slice(0, colon), value: label.slice(colon + 1) };
}
