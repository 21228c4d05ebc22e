import { describe, expect, it } from 'vitest';
import { LoginRateLimiter, loginClientKey } from './login-rate-limiter.js';

describe('LoginRateLimiter', () => {
  it('refuses a client after maxFailures in a window until the window ends, others unaffected', () => {
    let now = 0;
    const limiter = new LoginRateLimiter({ maxFailures: 3, windowMs: 10_000, now: () => now });
    for (let i = 0; i < 3; i += 1) {
      expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
      limiter.fail('10.0.0.1');
    }
    now = 2_500;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(8);
    expect(limiter.retryAfterSeconds('::ffff:10.0.0.1')).toBe(8);
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBeUndefined();
    now = 10_000;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
    limiter.fail('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
  });

  it('counts an IPv6 /64 as one client', () => {
    expect(loginClientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(loginClientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(loginClientKey('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(loginClientKey('::1')).toBe('0:0:0:0::/64');
    expect(loginClientKey('192.0.2.7')).toBe('192.0.2.7');
    const limiter = new LoginRateLimiter({ maxFailures: 2 });
    limiter.fail('2001:db8:1:2::a');
    limiter.fail('2001:db8:1:2::b');
    expect(limiter.retryAfterSeconds('2001:db8:1:2:ffff::c')).toBeGreaterThan(0);
    expect(limiter.retryAfterSeconds('2001:db8:1:3::a')).toBeUndefined();
  });

  it('tracks at most maxClients addresses', () => {
    const limiter = new LoginRateLimiter({ maxFailures: 1, maxClients: 2 });
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) limiter.fail(ip);
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
    expect(limiter.retryAfterSeconds('10.0.0.3')).toBeGreaterThan(0);
  });
});
