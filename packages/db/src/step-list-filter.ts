import type { StepStatus } from '@sandfleet/contracts';
import { DbError } from './errors.js';
import type { StepSummary } from './step-record.js';

/** @defaultValue of {@link StepListFilter.limit}. */
export const DEFAULT_LIST_LIMIT = 50;
/** Largest page `StepRepository.list` returns; larger limits are clamped to it. */
export const MAX_LIST_LIMIT = 500;

/** Filters of `StepRepository.list`; all given filters must hold. */
export interface StepListFilter {
  status?: StepStatus;
  agentId?: string;
  /**
   * Only steps whose agent matches one of these globs (`*` any run, `?` one character): a
   * token's scope, applied in SQL so pages stay full. An empty list matches nothing.
   */
  agentGlobs?: readonly string[];
  runId?: string;
  label?: { key: string; value: string };
  /** Only steps created strictly after this instant. */
  createdAfter?: Date;
  /** Only steps created strictly before this instant. */
  createdBefore?: Date;
  /** @defaultValue 50, at most 500 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** A scope glob as a SQL `LIKE` pattern (escape `\\`): `*` → `%`, `?` → `_`, the rest literal. */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_*?]/g, (c) => (c === '*' ? '%' : c === '?' ? '_' : `\\${c}`));
}

/** One page of steps, newest first. */
export interface StepPage {
  items: StepSummary[];
  /** Present when more steps follow; pass it as `cursor` for the next page. */
  nextCursor?: string;
}

/**
 * The page size for `limit`: the default when undefined, clamped to {@link MAX_LIST_LIMIT}.
 * @throws DbError `INVALID_ARGUMENT` unless a positive integer.
 */
export function resolveLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1)
    throw new DbError('INVALID_ARGUMENT', 'limit must be a positive integer', { context: { limit } });
  return Math.min(limit, MAX_LIST_LIMIT);
}
