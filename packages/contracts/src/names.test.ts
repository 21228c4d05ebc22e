import { describe, expect, it } from 'vitest';
import {
  cancelChannel,
  eventsKey,
  fenceKey,
  JOB_NAME,
  LABELS,
  QUEUE_NAME,
  QUEUE_PREFIX,
  redisKey,
  workerKey,
} from './names.js';

describe('names', () => {
  it('keeps the public queue contract: queue steps, prefix sandfleet, job name step', () => {
    expect([QUEUE_NAME, QUEUE_PREFIX, JOB_NAME]).toEqual(['steps', 'sandfleet', 'step']);
  });

  it('builds the events channel and stream key of a step', () => {
    expect(eventsKey('abc')).toBe('sandfleet:events:abc');
  });

  it('builds every other key under the sandfleet prefix', () => {
    expect(redisKey('a', 'b')).toBe('sandfleet:a:b');
    expect(cancelChannel()).toBe('sandfleet:cancel');
    expect(workerKey('host-1')).toBe('sandfleet:workers:host-1');
    expect(fenceKey('abc')).toBe('sandfleet:fence:abc');
  });

  it('keeps the public container label names', () => {
    expect(Object.values(LABELS)).toEqual([
      'sandfleet.managed',
      'sandfleet.step-id',
      'sandfleet.agent-id',
      'sandfleet.worker-id',
      'sandfleet.attempt',
      'sandfleet.fleet',
    ]);
  });
});
