import { isApiError, type SandfleetClient, type StepListFilter, type StepRecord } from '@sandfleet/client';
import type { StepEvent, StepSpecInput } from '@sandfleet/contracts';
import type { StepBackend } from './step-backend.js';

/**
 * How long a replay without `-f` waits for the next event before taking what came as all there
 * is so far: the API streams the retained events in one burst, then waits for live ones.
 */
export const REPLAY_IDLE_MS = 750;

/** Steps through the Sandfleet HTTP API (`@sandfleet/client`). */
export class ApiStepBackend implements StepBackend {
  readonly mode = 'api';
  readonly #client: SandfleetClient;

  constructor(client: SandfleetClient) {
    this.#client = client;
  }

  enqueue(spec: StepSpecInput) {
    return this.#client.createStep(spec);
  }

  follow(id: string, afterSeq: number): AsyncIterable<StepEvent> {
    return this.#client.events(id, { since: afterSeq });
  }

  async replay(id: string, afterSeq: number): Promise<StepEvent[]> {
    await this.#client.getStep(id); // STEP_NOT_FOUND before waiting on a stream
    const controller = new AbortController();
    let timer = setTimeout(() => controller.abort(), REPLAY_IDLE_MS);
    const events: StepEvent[] = [];
    try {
      for await (const event of this.#client.events(id, { since: afterSeq, signal: controller.signal })) {
        events.push(event);
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(), REPLAY_IDLE_MS);
      }
    } finally {
      clearTimeout(timer);
    }
    return events;
  }

  async get(id: string): Promise<StepRecord | undefined> {
    try {
      return await this.#client.getStep(id);
    } catch (error) {
      if (isApiError(error, 'STEP_NOT_FOUND')) return undefined;
      throw error;
    }
  }

  list(filter: StepListFilter) {
    return this.#client.listSteps(filter);
  }

  cancel(id: string) {
    return this.#client.cancelStep(id);
  }

  warm(agentId: string, image?: string) {
    return this.#client.warmAgent(agentId, image === undefined ? {} : { image });
  }
}
