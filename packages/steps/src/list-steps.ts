import type { StepListFilter, StepRepository, StepSummary } from '@sandfleet/db';
import type { Principal } from './step-scope.js';

/** Dependencies of {@link listSteps}. */
export interface ListStepsDeps {
  steps: Pick<StepRepository, 'list'>;
}

/** One page of steps, newest first; `nextCursor` is null on the last page. */
export interface StepListPage {
  items: StepSummary[];
  nextCursor: string | null;
}

/**
 * Steps matching `filter` (status, agent, run, label, creation window), newest first, one page
 * of at most `filter.limit`, after `filter.cursor`; only the agents `principal` may see (filtered
 * in SQL, so every page is full).
 * @throws DbError `INVALID_CURSOR` for a cursor that is not a `nextCursor`.
 */
export async function listSteps(
  deps: ListStepsDeps,
  filter: StepListFilter = {},
  principal?: Principal,
): Promise<StepListPage> {
  const agents = principal?.scope.agents;
  const page = await deps.steps.list(agents === undefined ? filter : { ...filter, agentGlobs: agents });
  return { items: page.items, nextCursor: page.nextCursor ?? null };
}
