import type { FleetNames } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';
import { StreamError } from './errors.js';
import { EVENT_FIELD } from './read-events.js';
import { RedisScript } from './redis-script.js';

/**
 * Fencing of a step's events: a hash `<prefix>:fence:{stepId}` holds the newest attempt that
 * opened a publisher and whether `finished` was written. Opening for attempt N raises it to N;
 * every write checks it in the same script as the XADD/PUBLISH, so an older attempt (its job
 * stalled and was redelivered) can write nothing once a newer one opened, and nobody writes
 * after `finished`. Publishers that are not an attempt (cancel, queue failures) pass no attempt
 * and are fenced by `finished` only.
 */

// KEYS: stream, fence. ARGV: attempt ('' for none). Returns {'ok', lastEntryJson|false} or {'stale', n} or {'finished'}.
const OPEN = new RedisScript(`
local fence = redis.call('HMGET', KEYS[2], 'attempt', 'finished')
if fence[2] == '1' then return {'finished'} end
if ARGV[1] ~= '' then
  local current = tonumber(fence[1] or '0')
  if tonumber(ARGV[1]) < current then return {'stale', current} end
  redis.call('HSET', KEYS[2], 'attempt', ARGV[1])
end
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last == 0 then return {'ok', false} end
local fields = last[1][2]
for i = 1, #fields, 2 do
  if fields[i] == '${EVENT_FIELD}' then return {'ok', fields[i + 1]} end
end
return {'ok', false}
`);

// KEYS: stream, fence. ARGV: attempt, maxlen, ttl, then (payload, finished flag) per event.
const WRITE = new RedisScript(`
local fence = redis.call('HMGET', KEYS[2], 'attempt', 'finished')
if fence[2] == '1' then return 'finished' end
if ARGV[1] ~= '' and tonumber(fence[1] or '0') > tonumber(ARGV[1]) then return 'stale' end
for i = 4, #ARGV, 2 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', '${EVENT_FIELD}', ARGV[i])
  redis.call('PUBLISH', KEYS[1], ARGV[i])
  if ARGV[i + 1] == '1' then
    redis.call('HSET', KEYS[2], 'finished', '1')
    redis.call('EXPIRE', KEYS[1], ARGV[3])
    redis.call('EXPIRE', KEYS[2], ARGV[3])
  end
end
return 'ok'
`);

/** One event to write: its JSON and whether it is the step's `finished`. */
export interface FencedEvent {
  payload: Buffer;
  finished: boolean;
}

/**
 * Claims the step's events for `attempt` and returns the JSON of the newest event already in
 * its stream (undefined when none), so numbering continues gap-free.
 * @throws StreamError `STREAM_ATTEMPT_FENCED` when a newer attempt opened or the step finished.
 */
export async function openFence(
  redis: Redis,
  names: FleetNames,
  stepId: string,
  attempt: number | undefined,
): Promise<string | undefined> {
  const reply = (await OPEN.run(redis, [names.events(stepId), names.fence(stepId)], [attempt ?? ''])) as [
    string,
    (string | number | null)?,
  ];
  if (reply[0] === 'ok') return typeof reply[1] === 'string' ? reply[1] : undefined;
  throw fenced(stepId, attempt, reply[0] === 'stale' ? Number(reply[1]) : undefined);
}

/**
 * Appends events to the replay stream and publishes them, atomically with the fence check.
 * @throws StreamError `STREAM_ATTEMPT_FENCED`; Redis errors as they come.
 */
export async function writeFenced(
  redis: Redis,
  names: FleetNames,
  stepId: string,
  attempt: number | undefined,
  events: readonly FencedEvent[],
  options: { streamMaxLen: number; finishedTtlSeconds: number },
): Promise<void> {
  const args: (string | number | Buffer)[] = [
    attempt ?? '',
    options.streamMaxLen,
    options.finishedTtlSeconds,
  ];
  for (const event of events) args.push(event.payload, event.finished ? '1' : '0');
  const reply = await WRITE.run(redis, [names.events(stepId), names.fence(stepId)], args);
  if (reply !== 'ok') throw fenced(stepId, attempt, undefined);
}

function fenced(stepId: string, attempt: number | undefined, newer: number | undefined): StreamError {
  const who = attempt === undefined ? 'this publisher' : `attempt ${attempt}`;
  const why =
    newer === undefined ? 'the step has finished or a newer attempt runs' : `attempt ${newer} runs now`;
  return new StreamError('STREAM_ATTEMPT_FENCED', `${who} of step ${stepId} may not publish: ${why}`, {
    context: { stepId, ...(attempt === undefined ? {} : { attempt }) },
  });
}
