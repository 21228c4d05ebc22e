import type { StepListFilter, StepPage, StepRecord } from '@sandfleet/client';
import { SandfleetError, type StepEvent } from '@sandfleet/contracts';
import { enqueueStep, followStep, getStep, listSteps, warmAgent } from '@sandfleet/steps';
import type { StepBackend } from '../backend/step-backend.js';
import type { DirectConnections } from './direct-connections.js';

/** Steps straight on Redis and PostgreSQL, through the same use cases as the API (`@sandfleet/steps`). */
export class DirectStepBackend implements StepBackend {
  readonly mode = 'direct';
  readonly #connections: DirectConnections;

  constructor(connections: DirectConnections) {
    this.#connections = connections;
  }

  async enqueue(spec: unknown) {
    return enqueueStep({ queue: await this.#connections.queue() }, spec);
  }

  async *follow(id: string, afterSeq: number): AsyncGenerator<StepEvent, void, undefined> {
    const [db, queue, subscriber] = await Promise.all([
      this.#connections.db(),
      this.#connections.queue(),
      this.#connections.subscriber(),
    ]);
    yield* await followStep({ steps: db.steps, queue, subscriber }, id, { afterSeq });
  }

  async replay(id: string, afterSeq: number): Promise<StepEvent[]> {
    const [{ readEvents }, redis] = await Promise.all([
      import('@sandfleet/stream'),
      this.#connections.redis(),
    ]);
    return readEvents({ redis, names: this.#connections.names, stepId: id, afterSeq });
  }

  async get(id: string): Promise<StepRecord | undefined> {
    try {
      return asJson<StepRecord>(await getStep(await this.#connections.db(), id));
    } catch (error) {
      if (error instanceof SandfleetError && error.code === 'STEP_NOT_FOUND') return undefined;
      throw error;
    }
  }

  async list(filter: StepListFilter): Promise<StepPage> {
    const { label, createdAfter, createdBefore, ...rest } = filter;
    const page = await listSteps(await this.#connections.db(), {
      ...rest,
      label: typeof label === 'string' ? splitLabel(label) : label,
      createdAfter: createdAfter === undefined ? undefined : new Date(createdAfter),
      createdBefore: createdBefore === undefined ? undefined : new Date(createdBefore),
    });
    return { items: asJson(page.items), nextCursor: page.nextCursor };
  }

  async cancel(id: string) {
    return (await this.#connections.canceller()).cancel(id);
  }

  async warm(agentId: string, image?: string) {
    const hints = await this.#connections.warmHints();
    return warmAgent({ hints }, agentId, image === undefined ? undefined : { image });
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
