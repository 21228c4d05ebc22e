import { describe, expect, it } from 'vitest';
import { maskUrlCredentials, maskUrlCredentialsIn } from './url-credentials.js';

describe('maskUrlCredentials', () => {
  it('masks a user and password, or a lone token, in any URL', () => {
    expect(maskUrlCredentials('clone http://u:pw@host/x.git failed')).toBe(
      'clone http://***@host/x.git failed',
    );
    expect(maskUrlCredentials('https://ghp_token@github.com/o/r')).toBe('https://***@github.com/o/r');
    expect(maskUrlCredentials('https://host/x.git and a@b.c')).toBe('https://host/x.git and a@b.c');
  });

  it('masks every string of a JSON-like value, leaving other values', () => {
    const data = {
      agentId: 'a',
      workspace: { repo: 'http://u:pw@h/x.git' },
      list: ['ftp://t@h', 3],
      n: null,
    };
    expect(maskUrlCredentialsIn(data)).toEqual({
      agentId: 'a',
      workspace: { repo: 'http://***@h/x.git' },
      list: ['ftp://***@h', 3],
      n: null,
    });
  });
});
