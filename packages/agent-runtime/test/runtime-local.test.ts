import { EventEmitter } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventData, git, LocalRepo } from './local-repo.js';

// The runtime in-process against file:// repositories on this machine: the workspace rules
// without Docker (the root test/agent-runtime.test.ts runs it in the image over authenticated HTTP).
let repo: LocalRepo;
beforeEach(async () => {
  repo = await LocalRepo.create();
});
afterEach(async () => {
  await repo.remove();
});

const pipeline = (step: string, runId: string, extra: Record<string, unknown> = {}) => ({
  SANDFLEET_STEP_ID: step,
  SANDFLEET_KIND: 'pipeline',
  SANDFLEET_RUN_ID: runId,
  SANDFLEET_WORKSPACE: JSON.stringify({ repo: repo.url, push: true, ...extra }),
});

describe('a pipeline workspace', () => {
  it("reuses the run's worktree across steps and replaces it for another run", async () => {
    const first = await repo.run(['bash', '-c', 'echo one > one.txt'], pipeline('s1', 'R1'));
    expect(first.exitCode).toBe(0);
    expect(first.events.map((e) => e.name)).toEqual(['workspace.ready', 'git.commit', 'git.push', 'result']);
    expect(git(repo.bare, 'log', '--format=%s', 'run/R1')).toBe('sandfleet: step s1\nadd README.md');

    const second = await repo.run(
      ['bash', '-c', 'cat one.txt; git log -1 --format=%an'],
      pipeline('s2', 'R1'),
    );
    expect(second.stdout).toBe('one\nsandfleet-agent\n');
    expect(eventData(second, 'git.commit')).toBeUndefined();

    const other = await repo.run(['bash', '-c', 'ls; git branch --show-current'], pipeline('s3', 'R2'));
    expect(other.stdout).toBe('README.md\nrun/R2\n');
    expect(other.stderr).toContain('replacing the worktree of run/R1');
  });

  it('tracks a run branch that another agent pushed, and fast-forwards to its new commits', async () => {
    await repo.commitOnRemote('run/R1', 'theirs.txt', 'theirs\n');
    const first = await repo.run(['cat', 'theirs.txt'], pipeline('s1', 'R1'));
    expect(first.stdout).toBe('theirs\n');
    await repo.commitOnRemote('run/R1', 'later.txt', 'later\n');
    const second = await repo.run(['cat', 'later.txt'], pipeline('s2', 'R1'));
    expect(second.stdout).toBe('later\n');
  });

  it('recovers when the project clone was removed under a worktree', async () => {
    await repo.run(['true'], pipeline('s1', 'R1'));
    await rm(join(repo.home, 'project-workspace', '.git'), { recursive: true });
    const again = await repo.run(['git', 'branch', '--show-current'], pipeline('s2', 'R1'));
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe('run/R1\n');
  });
});

describe('a task workspace', () => {
  const task = (workspace: Record<string, unknown>, env: Record<string, string> = {}) => ({
    SANDFLEET_STEP_ID: 'step-1',
    SANDFLEET_KIND: 'task',
    SANDFLEET_WORKSPACE: JSON.stringify({ repo: repo.url, ...workspace }),
    ...env,
  });

  it('is a clone in task-workspaces/{taskId} on a new branch from ref', async () => {
    const run = await repo.run(
      ['bash', '-c', 'pwd; git branch --show-current; echo "$SANDFLEET_WORKSPACE_PATH"'],
      task({ branch: 'fix/1', ref: 'main', push: true }, { SANDFLEET_TASK_ID: 'T1' }),
    );
    const path = join(repo.home, 'task-workspaces', 'T1');
    expect(run.stdout).toBe(`${path}\nfix/1\n${path}\n`);
    expect(eventData(run, 'workspace.ready')).toMatchObject({ kind: 'task', path, branch: 'fix/1' });
    expect(git(repo.bare, 'branch', '--list', 'fix/1')).toContain('fix/1');
  });

  it('defaults the task id to the step id and the branch to the default branch', async () => {
    const run = await repo.run(['git', 'branch', '--show-current'], task({}));
    expect(run.stdout).toBe('main\n');
    expect(eventData(run, 'workspace.ready')?.path).toBe(join(repo.home, 'task-workspaces', 'step-1'));
  });

  it('is detached at a tag, and refuses to push from there', async () => {
    git(repo.bare, 'tag', 'v1', 'main');
    const run = await repo.run(['bash', '-c', 'echo x > x.txt'], task({ ref: 'v1', push: true }));
    expect(eventData(run, 'workspace.ready')?.branch).toBeNull();
    expect(run.exitCode).toBe(70);
    expect(eventData(run, 'result')?.error).toMatchObject({ code: 'PUBLISH_FAILED' });
  });

  it('fails with WORKSPACE_FAILED, before running the command, for a missing repository', async () => {
    const run = await repo.run(['touch', 'ran'], task({ repo: `file://${repo.root}/missing.git` }));
    expect(run.exitCode).toBe(70);
    expect(run.events.map((e) => e.name)).toEqual(['result']);
    expect(eventData(run, 'result')?.error).toMatchObject({ code: 'WORKSPACE_FAILED' });
    expect(run.stderr).toContain('preparing the workspace of');
  });

  it('starts the default branch of an empty repository and pushes it', async () => {
    git(repo.root, 'init', '--quiet', '--bare', '--initial-branch=main', 'empty.git');
    const run = await repo.run(
      ['bash', '-c', 'echo first > first.txt'],
      task({ repo: `file://${repo.root}/empty.git`, push: true }),
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(eventData(run, 'workspace.ready')).toMatchObject({ branch: 'main', sha: '' });
    expect(git(join(repo.root, 'empty.git'), 'log', '--format=%s', 'main')).toBe('sandfleet: step step-1');
  });

  it('does not push when the command fails', async () => {
    const run = await repo.run(['bash', '-c', 'echo x > x.txt; exit 3'], task({ branch: 'b', push: true }));
    expect(run.exitCode).toBe(3);
    expect(run.events.map((e) => e.name)).toEqual(['workspace.ready', 'result']);
    expect(git(repo.bare, 'branch', '--list', 'b')).toBe('');
  });
});

describe('the command', () => {
  it('runs in the home with the result file, without the event token', async () => {
    const run = await repo.run(
      [
        'bash',
        '-c',
        'pwd; printenv SANDFLEET_EVENT_TOKEN || echo unset; echo \'{"ok":1}\' > "$SANDFLEET_RESULT_FILE"',
      ],
      {},
    );
    expect(run.stdout).toBe(`${repo.home}\nunset\n`);
    expect(run.events).toEqual([{ name: 'result', data: { exitCode: 0, result: { ok: 1 } } }]);
  });

  it('replies in a chat with result.reply, else with its stdout', async () => {
    const history = join(repo.root, 'history.json');
    await writeFile(
      history,
      JSON.stringify([{ role: 'user', content: 'hi', createdAt: '2025-01-01T00:00:00Z' }]),
    );
    const env = { SANDFLEET_KIND: 'chat', SANDFLEET_CHAT_HISTORY_FILE: history };
    const plain = await repo.run(['jq', '-r', '.[-1].content', history], env);
    expect(eventData(plain, 'result')).toEqual({ exitCode: 0, reply: 'hi\n' });
    const structured = await repo.run(
      ['bash', '-c', 'echo noise; echo \'{"reply":"hello"}\' > "$SANDFLEET_RESULT_FILE"'],
      env,
    );
    expect(eventData(structured, 'result')).toMatchObject({ reply: 'hello', result: { reply: 'hello' } });
  });

  it('passes exit codes through, 127 for a missing program', async () => {
    expect((await repo.run(['bash', '-c', 'exit 7'], {})).exitCode).toBe(7);
    const missing = await repo.run(['no-such-program'], {});
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain('cannot run no-such-program');
  });

  it('passes a stop signal to the whole command and ends with 128 + its number', async () => {
    const signals = new EventEmitter();
    const marker = join(repo.root, 'started');
    const running = repo.run(['bash', '-c', `touch ${marker}; sleep 30; echo not-reached`], {}, signals);
    for (let i = 0; i < 100; i++) {
      if (
        await readFile(marker).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const started = Date.now();
    signals.emit('SIGTERM', 'SIGTERM');
    const run = await running;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(run.exitCode).toBe(143);
    expect(run.stdout).toBe('');
    expect(eventData(run, 'result')).toEqual({ exitCode: 143 });
  });
});
