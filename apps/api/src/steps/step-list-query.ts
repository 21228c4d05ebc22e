import { type FieldIssue, StepStatus, ValidationError } from '@sandfleet/contracts';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, type StepListFilter } from '@sandfleet/db';

/** Query parameters of `GET /v1/steps`, all optional. */
export const STEP_LIST_PARAMETERS = [
  'status',
  'agentId',
  'runId',
  'label',
  'createdAfter',
  'createdBefore',
  'limit',
  'cursor',
] as const;

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** An ISO-8601 time as a Date; undefined for anything else, including days that do not exist (Feb 30). */
function parseInstant(text: string): Date | undefined {
  const match = ISO_INSTANT.exec(text);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
  // Date rolls 2025-02-30 over to March 2nd instead of refusing it.
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const time = new Date(text);
  return Number.isFinite(time.getTime()) ? time : undefined;
}

/**
 * Turns the query string of `GET /v1/steps` into a list filter. `label` is `key:value` (split at
 * the first colon); times are ISO-8601 (a date alone means its UTC midnight); `limit` is 1 to 500.
 * @throws ValidationError naming every bad or unknown parameter.
 */
export function parseStepListQuery(query: Readonly<Record<string, unknown>>): StepListFilter {
  const issues: FieldIssue[] = [];
  const filter: StepListFilter = {};
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') {
      issues.push({ path: name, message: 'must be given once, not empty' });
      return undefined;
    }
    return value;
  };
  for (const name of Object.keys(query)) {
    if (!(STEP_LIST_PARAMETERS as readonly string[]).includes(name)) {
      issues.push({ path: name, message: 'is not a known parameter' });
    }
  }
  const status = text('status');
  if (status !== undefined) {
    const parsed = StepStatus.safeParse(status);
    if (parsed.success) filter.status = parsed.data;
    else issues.push({ path: 'status', message: `must be one of ${StepStatus.options.join(', ')}` });
  }
  const agentId = text('agentId');
  if (agentId !== undefined) filter.agentId = agentId;
  const runId = text('runId');
  if (runId !== undefined) filter.runId = runId;
  const label = text('label');
  if (label !== undefined) {
    const colon = label.indexOf(':');
    if (colon > 0) filter.label = { key: label.slice(0, colon), value: label.slice(colon + 1) };
    else issues.push({ path: 'label', message: 'must be key:value' });
  }
  for (const name of ['createdAfter', 'createdBefore'] as const) {
    const value = text(name);
    if (value === undefined) continue;
    const time = parseInstant(value);
    if (time) filter[name] = time;
    else issues.push({ path: name, message: 'must be an ISO-8601 time, e.g. 2025-01-31T12:00:00Z' });
  }
  const limit = text('limit');
  if (limit !== undefined) {
    const n = /^\d{1,6}$/.test(limit) ? Number(limit) : Number.NaN;
    if (n >= 1 && n <= MAX_LIST_LIMIT) filter.limit = n;
    else issues.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_LIST_LIMIT}` });
  }
  const cursor = text('cursor');
  if (cursor !== undefined) filter.cursor = cursor;
  if (issues.length > 0) throw new ValidationError('list query', issues);
  return { limit: DEFAULT_LIST_LIMIT, ...filter };
}
