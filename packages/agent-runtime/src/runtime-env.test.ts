import { describe, expect, it } from 'vitest';
import { RuntimeError } from './errors.js';
import { parseRuntimeEnv } from './runtime-env.js';

const WORKSPACE = JSON.stringify({ repo: 'https://git.example/acme/app.git', ref: 'main', push: true });

function problemsOf(env: Record<string, string>): string {
  try {
    parseRuntimeEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('INVALID_ENV');
    return (error as RuntimeError).message;
  }
  throw new Error('expected INVALID_ENV');
}

describe('parseRuntimeEnv', () => {
  it('defaults to a task step in /home/agent without workspace or events', () => {
    expect(parseRuntimeEnv({})).toEqual({ home: '/home/agent', kind: 'task', gitTokenEnv: 'GIT_TOKEN' });
  });

  it('reads every variable of the protocol', () => {
    const env = parseRuntimeEnv({
      HOME: '/home/agent',
      SANDFLEET_STEP_ID: 'step-1',
      SANDFLEET_AGENT_ID: 'alice',
      SANDFLEET_KIND: 'pipeline',
      SANDFLEET_ATTEMPT: '2',
      SANDFLEET_RUN_ID: 'R1',
      SANDFLEET_TASK_ID: 'T1',
      SANDFLEET_CHAT_SESSION_ID: 'C1',
      SANDFLEET_WORKSPACE: WORKSPACE,
      SANDFLEET_GIT_TOKEN_ENV: 'FORGE_TOKEN',
      FORGE_TOKEN: 's3cret',
      SANDFLEET_EVENT_TOKEN: 'evt',
    });
    expect(env).toEqual({
      home: '/home/agent',
      stepId: 'step-1',
      agentId: 'alice',
      kind: 'pipeline',
      attempt: 2,
      runId: 'R1',
      taskId: 'T1',
      chatSessionId: 'C1',
      workspace: { repo: 'https://git.example/acme/app.git', ref: 'main', push: true },
      gitTokenEnv: 'FORGE_TOKEN',
      gitToken: 's3cret',
      eventToken: 'evt',
    });
  });

  it('treats empty variables as unset and push as false by default', () => {
    const env = parseRuntimeEnv({
      SANDFLEET_STEP_ID: 's',
      SANDFLEET_RUN_ID: '',
      SANDFLEET_EVENT_TOKEN: '',
      GIT_TOKEN: '',
      SANDFLEET_WORKSPACE: '{"repo":"file:///srv/repo.git"}',
    });
    expect(env.runId).toBeUndefined();
    expect(env.eventToken).toBeUndefined();
    expect(env.gitToken).toBeUndefined();
    expect(env.workspace).toEqual({ repo: 'file:///srv/repo.git', push: false });
  });

  it('lists every problem at once', () => {
    const message = problemsOf({
      SANDFLEET_AGENT_ID: '../bob',
      SANDFLEET_TASK_ID: 'a..b',
      SANDFLEET_KIND: 'batch',
      SANDFLEET_ATTEMPT: '0',
      SANDFLEET_GIT_TOKEN_ENV: 'not a name',
    });
    for (const name of [
      'SANDFLEET_AGENT_ID',
      'SANDFLEET_TASK_ID',
      'SANDFLEET_KIND',
      'SANDFLEET_ATTEMPT',
      'SANDFLEET_GIT_TOKEN_ENV',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('refuses a workspace that is not a JSON object with a git URL and safe refs', () => {
    expect(problemsOf({ SANDFLEET_STEP_ID: 's', SANDFLEET_WORKSPACE: 'nope' })).toContain('is not JSON');
    expect(problemsOf({ SANDFLEET_STEP_ID: 's', SANDFLEET_WORKSPACE: '[]' })).toContain('JSON object');
    const message = problemsOf({
      SANDFLEET_STEP_ID: 's',
      SANDFLEET_WORKSPACE: JSON.stringify({
        repo: '/srv/repo',
        ref: '--upload-pack=x',
        branch: 'a b',
        push: 'yes',
      }),
    });
    expect(message).toContain('SANDFLEET_WORKSPACE.repo');
    expect(message).toContain('SANDFLEET_WORKSPACE.ref');
    expect(message).toContain('SANDFLEET_WORKSPACE.branch');
    expect(message).toContain('SANDFLEET_WORKSPACE.push');
  });

  it('checks ids with the StepSpec schemas, and ignores workspace keys it does not know', () => {
    expect(problemsOf({ SANDFLEET_STEP_ID: '42' })).toContain('SANDFLEET_STEP_ID');
    const env = parseRuntimeEnv({
      SANDFLEET_STEP_ID: 's',
      SANDFLEET_WORKSPACE: JSON.stringify({ repo: 'https://git.example/a.git', depth: 1 }),
    });
    expect(env.workspace).toEqual({ repo: 'https://git.example/a.git', push: false });
    expect(problemsOf({ SANDFLEET_STEP_ID: 's', SANDFLEET_WORKSPACE: '{"repo":"-x@host:path"}' })).toContain(
      'SANDFLEET_WORKSPACE.repo',
    );
  });

  it('needs a step id with a workspace, and a run id or branch for a pipeline', () => {
    expect(problemsOf({ SANDFLEET_WORKSPACE: WORKSPACE })).toContain('SANDFLEET_STEP_ID');
    expect(
      problemsOf({ SANDFLEET_STEP_ID: 's', SANDFLEET_KIND: 'pipeline', SANDFLEET_WORKSPACE: WORKSPACE }),
    ).toContain('SANDFLEET_RUN_ID');
    const withBranch = JSON.stringify({ repo: 'https://git.example/a.git', branch: 'feature' });
    expect(
      parseRuntimeEnv({ SANDFLEET_STEP_ID: 's', SANDFLEET_KIND: 'pipeline', SANDFLEET_WORKSPACE: withBranch })
        .workspace?.branch,
    ).toBe('feature');
  });
});
