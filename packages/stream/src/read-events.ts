import { DEFAULT_FLEET_NAMES, type FleetNames, parseOrThrow, StepEvent } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';
import { StreamError } from './errors.js';

/** Field of a stream entry holding the event JSON: `XADD key … * e <json>`. */
export const EVENT_FIELD = 'e';

/** Entries fetched per XRANGE round trip when replaying forward. */
const FORWARD_PAGE = 500;
/** First and largest page when looking backward from the end for a resume point. */
const BACKWARD_FIRST_PAGE = 32;
const BACKWARD_MAX_PAGE = 512;
/**
 * Most events collected while looking backward for `afterSeq`; past this the replay restarts
 * forward from the beginning so memory stays bounded whatever the resume point.
 */
const BACKWARD_LIMIT = 4096;

type Entry = [id: string, fields: string[]];

/** Options of {@link readEvents} and {@link replayEvents}. */
export interface ReadEventsOptions {
  /** A command connection (not one in subscriber mode). */
  redis: Redis;
  stepId: string;
  /** Only events with a greater `seq` are returned. @defaultValue 0 */
  afterSeq?: number;
  /** Names of the step's fleet. @defaultValue the default fleet's (`sandfleet:events:{stepId}`) */
  names?: FleetNames;
}

/**
 * Reads a step's retained events with `seq > afterSeq` from its replay stream, in seq order,
 * each parsed with the contract `StepEvent` schema. Returns `[]` for an unknown or expired step.
 * Holds every returned event in memory; use {@link replayEvents} for bounded memory.
 * @throws StreamError `STREAM_READ_FAILED` (Redis failed) or `STREAM_EVENT_INVALID`.
 */
export async function readEvents(options: ReadEventsOptions): Promise<StepEvent[]> {
  const events: StepEvent[] = [];
  for await (const event of replayEvents(options)) events.push(event);
  return events;
}

/**
 * Like {@link readEvents} but yields events page by page, so memory stays bounded however
 * long the stream. A resume point near the end (`afterSeq` close to the last seq, the usual
 * reconnect) is found by reading backward from the end, without fetching older entries.
 */
export async function* replayEvents(options: ReadEventsOptions): AsyncGenerator<StepEvent, void, undefined> {
  const { redis, stepId } = options;
  const key = (options.names ?? DEFAULT_FLEET_NAMES).events(stepId);
  const afterSeq = options.afterSeq ?? 0;
  if (afterSeq > 0) {
    const tail = await readTail(redis, key, stepId, afterSeq);
    if (tail) {
      yield* tail;
      return;
    }
  }
  let start = '-';
  for (;;) {
    const entries = await readRange(stepId, () => redis.xrange(key, start, '+', 'COUNT', FORWARD_PAGE));
    for (const entry of entries) {
      const event = parseEntry(stepId, entry);
      if (event.seq > afterSeq) yield event;
    }
    const last = entries.at(-1);
    if (!last || entries.length < FORWARD_PAGE) return;
    start = `(${last[0]}`;
  }
}

/** Events after `afterSeq` read backward from the end of stream `key`, or undefined when there are too many. */
async function readTail(
  redis: Redis,
  key: string,
  stepId: string,
  afterSeq: number,
): Promise<StepEvent[] | undefined> {
  const collected: StepEvent[] = [];
  let end = '+';
  let count = BACKWARD_FIRST_PAGE;
  while (collected.length < BACKWARD_LIMIT) {
    const entries = await readRange(stepId, () => redis.xrevrange(key, end, '-', 'COUNT', count));
    for (const entry of entries) {
      const event = parseEntry(stepId, entry);
      if (event.seq <= afterSeq) return collected.reverse();
      collected.push(event);
    }
    const oldest = entries.at(-1);
    if (!oldest || entries.length < count) return collected.reverse();
    end = `(${oldest[0]}`;
    count = Math.min(count * 4, BACKWARD_MAX_PAGE);
  }
  return undefined;
}

/** Runs one XRANGE/XREVRANGE, turning a Redis failure into `STREAM_READ_FAILED`. */
async function readRange(stepId: string, read: () => Promise<Entry[]>): Promise<Entry[]> {
  try {
    return await read();
  } catch (cause) {
    throw new StreamError('STREAM_READ_FAILED', `reading events of step ${stepId} failed`, {
      cause,
      context: { stepId },
    });
  }
}

/** Parses one stream entry with the contract schema. */
export function parseEntry(stepId: string, [id, fields]: Entry): StepEvent {
  let json: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === EVENT_FIELD) json = fields[i + 1];
  try {
    if (json === undefined) throw new Error(`entry has no "${EVENT_FIELD}" field`);
    return parseOrThrow(StepEvent, JSON.parse(json), 'step event', { stepId });
  } catch (cause) {
    throw new StreamError('STREAM_EVENT_INVALID', `entry ${id} of step ${stepId} is not a valid event`, {
      cause,
      context: { stepId, entryId: id },
    });
  }
}
