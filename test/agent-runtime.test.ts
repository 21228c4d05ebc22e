import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, ensureAgentImage, imageLabels } from './support/agent-image.js';
import { RUNTIME_IMAGE, RuntimeDockerHarness, type StepRun } from './support/agent-runtime-docker.js';
import { GitHttpServer, git } from './support/git-http-server.js';

// The agent runtime in the minimal image, run as the worker runs step containers, against a git
// server on this machine that only the test's Docker network reaches.
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const harness = new RuntimeDockerHarness();
let server: GitHttpServer;
let files: string;

beforeAll(async () => {
  // Rebuilds the image only when its sandfleet.runtime-version differs from the runtime's build.
  await ensureAgentImage('minimal', 20 * 60_000);
  await harness.start();
  server = await GitHttpServer.start({ host: harness.gateway, token: TOKEN });
  files = await mkdtemp(join(tmpdir(), 'sandfleet-runtime-files-'));
}, 20 * 60_000);

afterAll(async () => {
  await server?.close();
  if (files) await rm(files, { recursive: true, force: true });
  expect(await harness.close()).toEqual({ containers: '', volumes: '', networks: '' });
});

const names = (run: StepRun) => run.events.map((event) => event.name);
const data = (run: StepRun, name: string) => run.events.find((event) => event.name === name)?.data;
const stepEnv = (env: Record<string, string>) => ({
  SANDFLEET_AGENT_ID: 'alice',
  SANDFLEET_ATTEMPT: '1',
  GIT_TOKEN: TOKEN,
  ...env,
});

describe('the agent-runtime image', () => {
  it('has the runtime as its entry point, labelled with its version', async () => {
    const labels = await imageLabels(RUNTIME_IMAGE);
    expect(labels['sandfleet.runtime-version']).toMatch(/^[0-9a-f]{16}$/);
    const config = await docker([
      'image',
      'inspect',
      '-f',
      '{{json .Config.Entrypoint}} {{json .Config.Cmd}}',
      RUNTIME_IMAGE,
    ]);
    expect(config.stdout.trim()).toBe('["/usr/local/bin/sandfleet-agent-runtime"] ["bash"]');
  });
});

describe('a pipeline run', () => {
  it("pushes step 1's commit to run/{runId}, and step 2 of the run sees it in run-workspace", async () => {
    const seed = await server.createRepo('pipeline');
    const home = await harness.createHome();
    const env = (step: string) =>
      stepEnv({
        SANDFLEET_STEP_ID: step,
        SANDFLEET_KIND: 'pipeline',
        SANDFLEET_RUN_ID: 'R1',
        SANDFLEET_WORKSPACE: JSON.stringify({ repo: server.url('pipeline'), push: true }),
      });

    const first = await harness.run({
      home,
      env: env('step-1'),
      argv: ['bash', '-c', 'echo "from step 1" > step1.txt; echo wrote'],
    });
    expect(first.code, first.stderr).toBe(0);
    expect(names(first)).toEqual(['workspace.ready', 'git.commit', 'git.push', 'result']);
    expect(data(first, 'workspace.ready')).toEqual({
      kind: 'pipeline',
      path: '/home/agent/run-workspace',
      repo: server.url('pipeline'),
      branch: 'run/R1',
      sha: seed,
    });
    const commit = data(first, 'git.commit');
    expect(commit).toMatchObject({ branch: 'run/R1' });
    expect(String(commit?.message)).toMatch(
      /^sandfleet: step step-1\n\nSandfleet-Agent: alice\nSandfleet-Run: R1$/,
    );
    expect(data(first, 'git.push')).toEqual({ branch: 'run/R1', sha: commit?.sha });
    expect(data(first, 'result')).toEqual({ exitCode: 0, commit: commit?.sha });
    expect(git(server.bare('pipeline'), 'rev-parse', 'run/R1')).toBe(commit?.sha);
    expect(git(server.bare('pipeline'), 'show', 'run/R1:step1.txt')).toBe('from step 1');
    expect(git(server.bare('pipeline'), 'log', '-1', '--format=%an <%ae>', 'run/R1')).toBe(
      'sandfleet-agent <agent@sandfleet.invalid>',
    );
    // Events appear in stdout only as sequences with the token: nothing of them is left around.
    expect(first.plain).toBe('wrote\n');
    expect(first.stdout.split(`\x1b]sandfleet;${first.eventToken};`)).toHaveLength(first.events.length + 1);
    expect(first.plain).not.toContain('\x1b');

    const second = await harness.run({
      home,
      env: env('step-2'),
      argv: ['bash', '-c', 'pwd; cat step1.txt; git log -1 --format=%s; git branch --show-current'],
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.plain).toBe('/home/agent/run-workspace\nfrom step 1\nsandfleet: step step-1\nrun/R1\n');
    expect(data(second, 'workspace.ready')).toMatchObject({ sha: commit?.sha, branch: 'run/R1' });
    expect(names(second)).toEqual(['workspace.ready', 'git.push', 'result']);
    expect(data(second, 'result')).toEqual({ exitCode: 0, commit: commit?.sha });
  });
});

describe('a task workspace', () => {
  const taskEnv = (token: string | undefined, extra: Record<string, string> = {}) => {
    const env: Record<string, string> = stepEnv({
      SANDFLEET_STEP_ID: 'task-step',
      SANDFLEET_KIND: 'task',
      SANDFLEET_TASK_ID: 'T1',
      SANDFLEET_WORKSPACE: JSON.stringify({ repo: server.url('task'), branch: 'fix/T1', push: true }),
      ...extra,
    });
    if (token === undefined) delete env.GIT_TOKEN;
    else env.GIT_TOKEN = token;
    return env;
  };

  beforeAll(async () => {
    await server.createRepo('task');
  });

  it('is an authenticated clone in task-workspaces/{taskId} on its branch, pushed after the step', async () => {
    const home = await harness.createHome();
    const run = await harness.run({
      home,
      env: taskEnv(TOKEN),
      argv: ['bash', '-c', 'pwd; git branch --show-current; git remote get-url origin; echo fix > fix.txt'],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.plain).toBe(`/home/agent/task-workspaces/T1\nfix/T1\n${server.url('task')}\n`);
    expect(names(run)).toEqual(['workspace.ready', 'git.commit', 'git.push', 'result']);
    expect(git(server.bare('task'), 'show', 'fix/T1:fix.txt')).toBe('fix');
  });

  it('takes the token from the variable SANDFLEET_GIT_TOKEN_ENV names', async () => {
    const home = await harness.createHome();
    const env = taskEnv(undefined, { SANDFLEET_GIT_TOKEN_ENV: 'FORGE_TOKEN', FORGE_TOKEN: TOKEN });
    const run = await harness.run({ home, env, argv: ['git', 'branch', '--show-current'] });
    expect(run.code, run.stderr).toBe(0);
    expect(run.plain).toBe('fix/T1\n');
  });

  it('fails with a clear message and a non-zero exit, without running the command, on a wrong token', async () => {
    const home = await harness.createHome();
    const run = await harness.run({ home, env: taskEnv('wrong-token'), argv: ['echo', 'ran'] });
    expect(run.code).toBe(70);
    expect(run.plain).toBe('');
    expect(run.stderr).toContain('the token in $GIT_TOKEN was refused');
    expect(run.stderr).not.toContain('wrong-token');
    expect(names(run)).toEqual(['result']);
    expect(data(run, 'result')).toMatchObject({ exitCode: 70, error: { code: 'WORKSPACE_FAILED' } });
    expect(server.requests.some((r) => r.password === 'wrong-token' && r.status === 401)).toBe(true);

    const missing = await harness.run({ home, env: taskEnv(undefined), argv: ['echo', 'ran'] });
    expect(missing.code).toBe(70);
    expect(missing.stderr).toContain('$GIT_TOKEN is not set');
  });
});

describe('the git token', () => {
  it('is in no file of the home, no git config or remote URL, and no event', async () => {
    await server.createRepo('secret');
    const home = await harness.createHome();
    const workspace = (push: boolean) => JSON.stringify({ repo: server.url('secret'), push });
    const runs = [
      await harness.run({
        home,
        env: stepEnv({
          SANDFLEET_STEP_ID: 's1',
          SANDFLEET_KIND: 'pipeline',
          SANDFLEET_RUN_ID: 'R9',
          SANDFLEET_WORKSPACE: workspace(true),
        }),
        argv: ['bash', '-c', 'date > run.txt'],
      }),
      await harness.run({
        home,
        env: stepEnv({
          SANDFLEET_STEP_ID: 's2',
          SANDFLEET_KIND: 'task',
          SANDFLEET_WORKSPACE: workspace(false),
        }),
        // An agent may set up a helper that stores what it gets: the token must not land in it.
        argv: [
          'bash',
          '-c',
          'git config --global credential.helper store && git fetch --quiet origin && echo fetched',
        ],
      }),
    ];
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.stringify(run.events)).not.toContain(TOKEN);
      expect(run.stderr).not.toContain(TOKEN);
    }
    // The step's own git reaches the repository with the same credential, from the environment.
    expect(runs[1]?.plain).toBe('fetched\n');

    const grep = await harness.inspectHome(home, `grep -r -l -a -F -e '${TOKEN}' /home/agent`);
    expect(grep.stdout).toBe('');
    expect(grep.code).toBe(1); // no match (2 would be an error)
    const config = await harness.inspectHome(
      home,
      'cd /home/agent/project-workspace && git config --local --list && git remote get-url origin && ' +
        'cd /home/agent/task-workspaces/s2 && git config --local --list && git remote get-url origin',
    );
    expect(config.code, config.stderr).toBe(0);
    expect(config.stdout).not.toContain(TOKEN);
    expect(config.stdout).toContain(`remote.origin.url=${server.url('secret')}`);
    expect(config.stdout).toContain('user.name=sandfleet-agent');
    expect(config.stdout).not.toContain('credential');
  });
});

describe('a step without workspace', () => {
  it('runs in /home/agent with its input, without the event token', async () => {
    const home = await harness.createHome();
    const input = join(files, 'input');
    await writeFile(input, 'input from a file\n', { mode: 0o644 });
    const run = await harness.run({
      home,
      env: stepEnv({
        SANDFLEET_STEP_ID: 'plain',
        SANDFLEET_KIND: 'task',
        SANDFLEET_INPUT_FILE: '/sandfleet/input',
        SANDFLEET_INPUT: 'inline input',
      }),
      extra: ['-v', `${input}:/sandfleet/input:ro`],
      argv: [
        'bash',
        '-c',
        'pwd; cat "$SANDFLEET_INPUT_FILE"; echo "$SANDFLEET_INPUT"; printenv SANDFLEET_EVENT_TOKEN || echo no-token; test -d vault/alice && echo vault',
      ],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.plain).toBe('/home/agent\ninput from a file\ninline input\nno-token\nvault\n');
    expect(run.events).toEqual([{ name: 'result', data: { exitCode: 0 } }]);
  });

  it('ends with the exit code of the command', async () => {
    const home = await harness.createHome();
    const run = await harness.run({
      home,
      env: stepEnv({ SANDFLEET_STEP_ID: 'exit' }),
      argv: ['bash', '-c', 'exit 7'],
    });
    expect(run.code).toBe(7);
    expect(data(run, 'result')).toEqual({ exitCode: 7 });
  });

  it.each([
    ['under Docker init, as the worker runs it', true],
    ['as PID 1', false],
  ])('passes SIGTERM on to the command (%s), so docker stop ends it promptly', async (_how, init) => {
    const home = await harness.createHome();
    const name = `sandfleet-test-rt-${harness.id}-stop-${init ? 'init' : 'pid1'}`;
    const step = harness.spawnStep({
      home,
      init,
      env: stepEnv({ SANDFLEET_STEP_ID: 'stop' }),
      extra: ['--name', name],
      argv: ['bash', '-c', 'echo ready; sleep 300; echo not-reached'],
    });
    await step.printed('ready', 30_000);
    const started = Date.now();
    const stop = await docker(['stop', '-t', '30', name]);
    expect(stop.code, stop.stderr).toBe(0);
    const run = await step.done;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.code).toBe(143);
    expect(run.plain).toBe('ready\n');
    expect(data(run, 'result')).toEqual({ exitCode: 143 });
  });
});

describe('a chat step', () => {
  it('sees the chat history, and replies with its stdout, or with result.reply', async () => {
    const home = await harness.createHome();
    const history = join(files, 'history.json');
    await writeFile(
      history,
      JSON.stringify([
        { role: 'user', content: 'hello', createdAt: '2025-01-01T00:00:00.000Z' },
        { role: 'assistant', content: 'hi!', createdAt: '2025-01-01T00:00:01.000Z' },
        { role: 'user', content: 'what is 2+2?', createdAt: '2025-01-01T00:00:02.000Z' },
      ]),
      { mode: 0o644 },
    );
    const env = stepEnv({
      SANDFLEET_STEP_ID: 'chat-1',
      SANDFLEET_KIND: 'chat',
      SANDFLEET_CHAT_SESSION_ID: 'C1',
      SANDFLEET_CHAT_HISTORY_FILE: '/sandfleet/chat-history.json',
    });
    const extra = ['-v', `${history}:/sandfleet/chat-history.json:ro`];
    const plain = await harness.run({
      home,
      env,
      extra,
      argv: ['bash', '-c', 'echo "you asked: $(jq -r ".[-1].content" "$SANDFLEET_CHAT_HISTORY_FILE")"'],
    });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.plain).toBe('you asked: what is 2+2?\n');
    expect(data(plain, 'result')).toEqual({ exitCode: 0, reply: 'you asked: what is 2+2?\n' });

    const structured = await harness.run({
      home,
      env,
      extra,
      argv: ['bash', '-c', 'echo thinking; jq -n \'{reply: "4", confidence: 1}\' > "$SANDFLEET_RESULT_FILE"'],
    });
    expect(data(structured, 'result')).toEqual({
      exitCode: 0,
      reply: '4',
      result: { reply: '4', confidence: 1 },
    });
  });
});
