import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  childGitAuthEnv,
  credentialHelper,
  credentialScope,
  gitAuth,
  redactToken,
  redactUrl,
} from './git-credential.js';

describe('git credentials', () => {
  it('scope the token to the scheme, host and port of an http(s) repository', () => {
    expect(credentialScope('https://git.example/acme/app.git')).toBe('https://git.example');
    expect(credentialScope('http://172.18.0.1:8080/repo.git')).toBe('http://172.18.0.1:8080');
    expect(credentialScope('ssh://git@git.example/acme/app.git')).toBeUndefined();
    expect(credentialScope('git@git.example:acme/app.git')).toBeUndefined();
    expect(credentialScope('file:///srv/repo.git')).toBeUndefined();
  });

  it('pass the token only in the environment of the git process, never in an argument', () => {
    const auth = gitAuth('https://git.example/a.git', 'tok-123');
    expect(auth.env).toEqual({ SANDFLEET_GIT_PASSWORD: 'tok-123' });
    expect(auth.configArgs.join(' ')).not.toContain('tok-123');
    expect(auth.configArgs).toEqual([
      '-c',
      'credential.helper=',
      '-c',
      `credential.https://git.example.helper=${credentialHelper('SANDFLEET_GIT_PASSWORD')}`,
    ]);
    expect(gitAuth('https://git.example/a.git', undefined)).toEqual({ configArgs: [], env: {} });
  });

  it('have a helper that answers get with the token from its environment, and nothing else', () => {
    const helper = credentialHelper('SANDFLEET_GIT_PASSWORD').slice(1);
    const run = (action: string) =>
      execFileSync('sh', ['-c', `${helper} "$@"`, 'helper', action], {
        env: { PATH: process.env.PATH, SANDFLEET_GIT_PASSWORD: 'tok $(x) "q"' },
        encoding: 'utf8',
      });
    expect(run('get')).toBe('username=x-access-token\npassword=tok $(x) "q"\n');
    expect(run('store')).toBe('');
  });

  it("give the step's own git the helper through GIT_CONFIG_* variables naming the token variable", () => {
    const env = { GIT_TOKEN: 'tok' };
    expect(childGitAuthEnv('https://git.example/a.git', 'GIT_TOKEN', env)).toEqual({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'credential.https://git.example.helper',
      GIT_CONFIG_VALUE_0: '',
      GIT_CONFIG_KEY_1: 'credential.https://git.example.helper',
      GIT_CONFIG_VALUE_1: credentialHelper('GIT_TOKEN'),
    });
    expect(childGitAuthEnv('https://git.example/a.git', 'GIT_TOKEN', {})).toEqual({});
    expect(
      childGitAuthEnv('https://git.example/a.git', 'GIT_TOKEN', { ...env, GIT_CONFIG_COUNT: '2' }),
    ).toEqual({});
  });

  it('redact tokens from text and passwords from URLs', () => {
    expect(redactToken('fatal: tok in tok', 'tok')).toBe('fatal: *** in ***');
    expect(redactToken('fatal', undefined)).toBe('fatal');
    expect(redactUrl('https://user:pw@git.example/a.git')).toBe('https://***@git.example/a.git');
    expect(redactUrl("fatal: unable to access 'https://tok@h/a.git/': 403")).toBe(
      "fatal: unable to access 'https://***@h/a.git/': 403",
    );
    expect(redactToken('clone -- http://u:pw@h/x.git', undefined)).toBe('clone -- http://***@h/x.git');
    expect(redactUrl('https://git.example/a.git')).toBe('https://git.example/a.git');
  });
});
