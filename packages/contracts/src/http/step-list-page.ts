import * as z from 'zod';
import { StepSummaryView } from './step-view.js';

/** `GET /v1/steps`: one page of steps, newest first. */
export const StepListPage = z.object({
  items: z.array(StepSummaryView),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'pass as `cursor` for the next page; null on the last' }),
});
export type StepListPage = z.infer<typeof StepListPage>;
