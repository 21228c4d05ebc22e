import { describe, expect, it } from 'vitest';
import { MissingHeartbeats } from './missing-heartbeats.js';

describe('MissingHeartbeats', () => {
  it('takes a worker for gone only once its heartbeat stayed missing for the grace', () => {
    let now = 0;
    const missing = new MissingHeartbeats(1500, () => now);
    expect(missing.isGone('w1', false)).toBe(false);
    now = 1499;
    expect(missing.isGone('w1', false)).toBe(false);
    now = 1500;
    expect(missing.isGone('w1', false)).toBe(true);
  });

  it('starts the grace again after the worker beat once more (a pause, not a death)', () => {
    let now = 0;
    const missing = new MissingHeartbeats(1000, () => now);
    missing.isGone('w1', false);
    now = 900;
    expect(missing.isGone('w1', true)).toBe(false);
    now = 1200;
    expect(missing.isGone('w1', false)).toBe(false);
    now = 2100;
    expect(missing.isGone('w1', false)).toBe(false);
    now = 2200;
    expect(missing.isGone('w1', false)).toBe(true);
  });

  it('judges each worker on its own and forgets the ones no longer asked about', () => {
    let now = 0;
    const missing = new MissingHeartbeats(1000, () => now);
    missing.isGone('w1', false);
    now = 500;
    missing.isGone('w2', false);
    now = 1000;
    expect([missing.isGone('w1', false), missing.isGone('w2', false)]).toEqual([true, false]);
    missing.keepOnly(['w2']);
    expect(missing.isGone('w1', false)).toBe(false);
    now = 1500;
    expect(missing.isGone('w2', false)).toBe(true);
  });
});
