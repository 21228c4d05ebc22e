import { describe, expect, it } from 'vitest';
import { parseConfigList, safeRepoConfig } from './git-config-reset.js';

describe('safeRepoConfig', () => {
  it('keeps the remote, branch tracking and identity, and drops anything that can run a command', () => {
    const listed = [
      'core.repositoryformatversion\n0',
      'core.hookspath\n/home/agent/hooks',
      'core.fsmonitor\ntouch /tmp/x',
      'core.sshcommand\nsh -c x',
      'include.path\n/home/agent/evil',
      'filter.x.clean\ntouch /tmp/x',
      'credential.helper\nstore',
      'remote.origin.url\nhttp://git/r.git',
      'remote.origin.fetch\n+refs/heads/*:refs/remotes/origin/*',
      'remote.origin.pushurl\nhttp://evil/r.git',
      'url.http://evil/.insteadof\nhttp://git/',
      'branch.feat/"x".remote\norigin',
      'branch.feat/"x".merge\nrefs/heads/feat/"x"',
      'user.name\nsandfleet-agent',
      'alias.st\n!touch /tmp/x',
      'core.bare',
      '',
    ].join('\0');
    expect(safeRepoConfig(parseConfigList(listed))).toBe(
      [
        '[core]',
        '\trepositoryformatversion = "0"',
        '\tbare = "true"',
        '[remote "origin"]',
        '\turl = "http://git/r.git"',
        '\tfetch = "+refs/heads/*:refs/remotes/origin/*"',
        '[branch "feat/\\"x\\""]',
        '\tremote = "origin"',
        '\tmerge = "refs/heads/feat/\\"x\\""',
        '[user]',
        '\tname = "sandfleet-agent"',
        '',
      ].join('\n'),
    );
  });
});
