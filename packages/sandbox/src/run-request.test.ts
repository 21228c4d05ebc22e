import { describe, expect, it } from 'vitest';
import { isSandboxError } from './errors.js';
import { assertValidRunRequest, runRequestIssues } from './run-request.js';
import type { SandboxRunRequest } from './sandbox.js';

const valid: SandboxRunRequest = {
  stepId: 'step-1',
  agentId: 'ada',
  workerId: 'worker-1',
  attempt: 1,
  image: 'sandfleet/test-busybox:latest',
  argv: ['true'],
  env: { A: '1' },
  files: [{ path: 'persona/soul.md', content: 'hi', encoding: 'utf8' }],
  limits: { timeoutMs: 1000, memoryMb: 64, cpus: 1, pids: 64 },
  network: 'none',
};

const paths = (request: SandboxRunRequest) => runRequestIssues(request).map((issue) => issue.path);

describe('run request validation', () => {
  it('accepts a well-formed request', () => {
    expect(runRequestIssues(valid)).toEqual([]);
  });

  it.each(['../x', '/abs', 'a//b', 'a/./b', 'a\\b', ''])('rejects the file path %j', (path) => {
    expect(paths({ ...valid, files: [{ path, content: '', encoding: 'utf8' }] })).toEqual(['files.0.path']);
  });

  it('rejects repeated paths and a file under another file', () => {
    const files = [
      { path: 'a', content: '', encoding: 'utf8' as const },
      { path: 'a/b', content: '', encoding: 'utf8' as const },
      { path: 'a', content: '', encoding: 'utf8' as const },
    ];
    expect(paths({ ...valid, files })).toEqual(['files.1.path', 'files.2.path']);
  });

  it('rejects ids that cannot name containers and volumes, and impossible limits', () => {
    const request = {
      ...valid,
      stepId: 'no spaces',
      agentId: 'Upper',
      attempt: -1,
      argv: [],
      env: { 'A=B': 'x' },
      limits: { timeoutMs: 0, memoryMb: 2, cpus: 0, pids: 0.5, diskMb: 8 },
      stopGraceMs: -1,
    };
    expect(paths(request)).toEqual([
      'stepId',
      'agentId',
      'attempt',
      'argv',
      'env.A=B',
      'limits.timeoutMs',
      'limits.memoryMb',
      'limits.cpus',
      'limits.pids',
      'limits.diskMb',
      'stopGraceMs',
    ]);
  });

  it('throws INVALID_REQUEST listing the issues', () => {
    let thrown: unknown;
    try {
      assertValidRunRequest({ ...valid, agentId: 'Bad' });
    } catch (error) {
      thrown = error;
    }
    expect(isSandboxError(thrown, 'INVALID_REQUEST')).toBe(true);
    expect(thrown).toMatchObject({ retryable: false, context: { issues: [{ path: 'agentId' }] } });
  });
});
