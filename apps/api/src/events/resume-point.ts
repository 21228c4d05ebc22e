import { ValidationError } from '@sandfleet/contracts';

const SEQ = /^\d{1,15}$/;

/**
 * The seq after which an event stream resumes: the `Last-Event-ID` header (what a reconnecting
 * EventSource sends) wins over the `since` query parameter; neither means from the start (0).
 * @throws ValidationError when the one given is not a non-negative integer.
 */
export function resumePoint(lastEventId: string | string[] | undefined, since: unknown): number {
  if (lastEventId !== undefined && lastEventId !== '') {
    if (typeof lastEventId === 'string' && SEQ.test(lastEventId.trim())) return Number(lastEventId.trim());
    throw new ValidationError('request', [
      { path: 'Last-Event-ID', message: 'must be the seq of an event (an integer ≥ 0)' },
    ]);
  }
  if (since === undefined) return 0;
  if (typeof since === 'string' && SEQ.test(since)) return Number(since);
  throw new ValidationError('request', [{ path: 'since', message: 'must be an integer ≥ 0' }]);
}
