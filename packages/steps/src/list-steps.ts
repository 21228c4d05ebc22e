import type { StepListFilter, StepRepository, StepSummary } from '@sandfleet/db';

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
 * of at most `filter.limit`, after `filter.cursor`.
 * @throws DbError `INVALID_CURSOR` for a cursor that is not a `nextCursor`.
 */
export async function listSteps(deps: ListStepsDeps, filter: StepListFilter = {}): Promise<StepListPage> {
  const page = await deps.steps.list(filter);
  return { items: page.items, nextCursor: page.nextCursor ?? null };
}
