import { describe, expect, it } from 'vitest';
import { SessionStore } from './session-store.js';

describe('SessionStore', () => {
  it('gives each sign-in a fresh random id that maps back to its identity until deleted', () => {
    const sessions = new SessionStore<string>();
    const a = sessions.create('team-a');
    const b = sessions.create('team-a');
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b).not.toBe(a);
    expect(sessions.get(a)).toBe('team-a');
    sessions.delete(a);
    expect(sessions.get(a)).toBeUndefined();
    expect(sessions.get(b)).toBe('team-a');
    expect(sessions.get(undefined)).toBeUndefined();
    expect(sessions.get('')).toBeUndefined();
  });

  it('ends a session left idle, and any session at its absolute expiry however often used', () => {
    let now = 0;
    const sessions = new SessionStore<number>({ idleMs: 100, absoluteMs: 250, now: () => now });
    const idle = sessions.create(1);
    const busy = sessions.create(2);
    now = 90;
    expect(sessions.get(busy)).toBe(2);
    now = 100;
    expect(sessions.get(idle)).toBeUndefined();
    for (now = 180; now < 250; now += 60) expect(sessions.get(busy)).toBe(2);
    now = 250;
    expect(sessions.get(busy)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('stays bounded under a flood of sign-ins, ending expired sessions first and then the oldest', () => {
    let now = 0;
    const sessions = new SessionStore<number>({ maxSessions: 3, idleMs: 50, now: () => now });
    const expired = sessions.create(0);
    now = 60;
    const first = sessions.create(1);
    const second = sessions.create(2);
    const third = sessions.create(3);
    expect(sessions.get(expired)).toBeUndefined();
    expect([first, second, third].map((id) => sessions.get(id))).toEqual([1, 2, 3]);
    const fourth = sessions.create(4);
    expect(sessions.size).toBe(3);
    expect([first, second, third, fourth].map((id) => sessions.get(id))).toEqual([undefined, 2, 3, 4]);
  });
});
