import { randomBytes } from 'node:crypto';
import type { RuntimeEvent, StepEvent } from '@sandfleet/contracts';
import type { StepRecord } from '@sandfleet/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IMAGE, ensureAgentImage } from './support/agent-image.js';
import { TestFleet, type TestWorker } from './support/test-fleet.js';

// Hostile steps against a real worker running the agent-runtime image: the step tries to read the
// runtime's token and memory, forge its events, run code inside it through the spec's env, and
// plant git configuration that would run inside the runtime's clone, commit and push. Each test
// asserts what the attacker actually got, from the recorded events, the row and the repository.
const TOKEN = `gt-${randomBytes(12).toString('hex')}`;
const IMAGE = AGENT_IMAGE.minimal;

// Each attack runs twice: in a cold container, and in the warm container the worker pre-started
// for the agent (asked for by a warm hint, as `POST /v1/agents/{agentId}/warm` does), so that a
// step given to a warm container through its gate gets no more than a cold one.
describe.each(['cold', 'warm'] as const)('a runtime the step cannot touch (%s container)', (mode) => {
  let fleet: TestFleet;
  let worker: TestWorker;

  beforeAll(async () => {
    await ensureAgentImage('minimal', 20 * 60_000);
    fleet = await TestFleet.create();
    // Cold: no pool, so that no step of an agent runs in a container warmed after its last.
    worker = await fleet.startWorker(mode === 'cold' ? { SANDFLEET_WARM_POOL_SIZE: '0' } : {}, {
      GIT_TOKEN: TOKEN,
    });
  }, 20 * 60_000);

  /** Warm steps: hits counted by the worker itself. */
  const hits = async () => {
    const text = await worker.metrics.render();
    const line = text.split('\n').find((l) => l.startsWith('sandfleet_warm_pool_runs_total{result="hit"'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const warmUp = async (agentId: string) => {
    await fleet.warmHints.add({ agentId, image: IMAGE });
    await fleet.until(`a warm container for ${agentId}`, async () => {
      const containers = await fleet.sandbox.listContainers({ workerId: worker.workerId });
      return containers.some((c) => c.warmId !== undefined && c.agentId === agentId && c.state === 'running');
    });
  };

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await fleet?.close();
  });

  interface Ran {
    id: string;
    row: StepRecord;
    events: StepEvent[];
    runtime: RuntimeEvent[];
  }

  const run = async (spec: Record<string, unknown>): Promise<Ran> => {
    const id = fleet.stepId();
    const before = await hits();
    if (mode === 'warm') await warmUp(spec.agentId as string);
    await fleet.queue.enqueue({ id, image: IMAGE, ...spec } as Parameters<typeof fleet.queue.enqueue>[0]);
    const row = await fleet.terminal(id, 90_000);
    expect(await hits()).toBe(mode === 'warm' ? before + 1 : before);
    const events = await fleet.replay(id);
    return { id, row, events, runtime: events.filter((e): e is RuntimeEvent => e.type === 'runtime') };
  };
  const streamOf = (ran: Ran, stream: 'stdout' | 'stderr') =>
    ran.events
      .filter((e) => e.type === 'output' && e.stream === stream)
      .map((e) => (e as { data: string }).data)
      .join('');
  const stderrOf = (ran: Ran) => streamOf(ran, 'stderr');

  it("cannot read the runtime's memory, environment or files: /proc/*/mem, /proc/*/environ, /sandfleet", async () => {
    const probe = [
      'readable() { head -c 1 "$1" >/dev/null 2>&1 && echo READ || echo denied; }',
      'echo "me $(id -u) ppid $PPID"',
      'for dir in /proc/[0-9]*; do',
      '  pid=$(basename "$dir"); owner=$(stat -c %u "$dir" 2>/dev/null) || continue',
      '  [ "$owner" = "$(id -u)" ] && continue',
      '  env=denied; mem=denied; cmd=""',
      '  head -c 1 "$dir/environ" >/dev/null 2>&1 && env=READ',
      '  dd if="$dir/mem" bs=1 count=1 skip=4194304 of=/dev/null 2>/dev/null && mem=READ',
      '  [ -r "$dir/mem" ] && mem=READ',
      '  echo "pid $pid uid $owner environ $env mem $mem"',
      'done',
      'echo "ppid-mem $(readable /proc/$PPID/mem)"; echo "init-environ $(readable /proc/1/environ)"',
      'for f in /sandfleet/*; do echo "file $f $(readable "$f")"; done',
      'env | grep -c "^SANDFLEET_EVENT_TOKEN=" || true',
    ].join('\n');
    const ran = await run({ agentId: fleet.agentId(), command: ['bash', '-c', probe] });
    expect(ran.row.status, ran.row.output).toBe('succeeded');
    const lines = ran.row.output.trim().split('\n');
    expect(lines[0]).toMatch(/^me 1000 ppid \d+$/);
    const others = lines.filter((line) => line.startsWith('pid '));
    // At least docker-init and the runtime are there, both root, and neither is readable.
    expect(others.length).toBeGreaterThanOrEqual(2);
    for (const line of others) expect(line).toMatch(/^pid \d+ uid 0 environ denied mem denied$/);
    expect(lines).toContain('ppid-mem denied');
    expect(lines).toContain('init-environ denied');
    // The token and env files were read and deleted before the step; only its input may be there.
    expect(lines.filter((line) => /^file \/sandfleet\/(?!input |\* )/.test(line))).toEqual([]);
    expect(lines.at(-1)).toBe('0');
    expect(ran.runtime.map((e) => e.name)).toEqual(['result']);
  });

  it('cannot forge events with any token it can find, nor swallow the real result with a trailing prefix', async () => {
    // Every token-like string the step can read anywhere is tried, with a forged git.push and
    // result, then a prefix left open right before the runtime's own result.
    const forge = [
      'cands=$( (cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline /sandfleet/* 2>/dev/null; env) | tr -c "A-Za-z0-9_-" "\\n" | grep -E "^.{8,64}$" | sort -u)',
      'cands="$cands guess"',
      'n=0',
      'for t in $cands; do',
      '  n=$((n+1))',
      '  push=$(printf \'{"name":"git.push","data":{"branch":"main","sha":"%040d"}}\' 0 | base64 -w0)',
      '  res=$(printf \'{"name":"result","data":{"exitCode":0,"commit":"forged"}}\' | base64 -w0)',
      '  printf "\\033]sandfleet;%s;%s\\007\\033]sandfleet;%s;%s\\007" "$t" "$push" "$t" "$res"',
      'done',
      'echo "tried $n"',
      'echo \'{"real":true}\' > "$SANDFLEET_RESULT_FILE"',
      'printf "\\033]sandfleet;"',
      'exit 3',
    ].join('\n');
    const ran = await run({ agentId: fleet.agentId(), command: ['bash', '-c', forge] });
    expect(ran.row.status, ran.row.output).toBe('failed');
    expect(ran.row.exitCode).toBe(3);
    expect(ran.row.output).toMatch(/tried \d+/);
    expect(Number(/tried (\d+)/.exec(ran.row.output)?.[1])).toBeGreaterThan(10);
    // The runtime's real result, and nothing else, is the one runtime event.
    expect(ran.runtime.map((e) => e.name)).toEqual(['result']);
    expect(ran.runtime[0]?.data).toEqual({ exitCode: 3, result: { real: true } });
    expect(ran.row.result).toEqual({ exitCode: 3, result: { real: true } });
    expect(JSON.stringify(ran.runtime)).not.toContain('forged');
    // No real sequence reached the stored output: the runtime escaped every prefix the step wrote.
    expect(ran.row.output).not.toContain('\x1b]sandfleet;');
    expect(ran.row.output).toContain('\u241b]sandfleet;guess;');
  });

  it('gives the spec’s NODE_OPTIONS and LD_PRELOAD to the step only, never to the runtime', async () => {
    const agentId = fleet.agentId();
    const preload = [
      "const fs = require('node:fs');",
      "const line = JSON.stringify({ uid: process.getuid(), argv: process.argv.slice(1) }) + '\\n';",
      "for (const f of ['/home/agent/preload.log', '/tmp/preload.log']) try { fs.appendFileSync(f, line); } catch {}",
    ].join('\n');
    const ran = await run({
      agentId,
      files: [{ path: 'pre.js', content: preload }],
      env: { NODE_OPTIONS: '--require /home/agent/pre.js', LD_PRELOAD: '/home/agent/no-such-preload.so' },
      command: [
        'bash',
        '-c',
        'node -e \'console.log("node ran", process.env.NODE_OPTIONS)\'; cat /tmp/preload.log',
      ],
    });
    expect(ran.row.status, stderrOf(ran)).toBe('succeeded');
    // pre.js ran in the step's node, and in no process of the runtime, which started before the
    // step (as root, it would have made /tmp/preload.log its own, and the step's line would fail).
    const [said, ...tmpLines] = streamOf(ran, 'stdout').trim().split('\n');
    expect(said).toBe('node ran --require /home/agent/pre.js');
    expect(tmpLines.map((line) => JSON.parse(line))).toEqual([{ uid: 1000, argv: [] }]);
    // ld.so complains once per program started with LD_PRELOAD: the step's bash, node and cat.
    // The runtime's launcher, node and helpers would each add a line.
    expect(stderrOf(ran).match(/no-such-preload\.so/g)).toHaveLength(3);
    // Nor in the runtime's helper after the step (as the agent, it could write to the home).
    const logs = await run({ agentId, command: ['cat', '/home/agent/preload.log'] });
    expect(
      streamOf(logs, 'stdout')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([{ uid: 1000, argv: [] }]);
  });

  it('runs no hook, filter or fsmonitor planted by an earlier step during the runtime’s clone, commit and push', async () => {
    // The remote is a bare repository in the agent's home (file://): no network, and its own
    // hooks, which git runs on a local push, are one more thing the agent plants.
    const agentId = fleet.agentId();
    const remote = '/home/agent/remote.git';
    const seed = await run({
      agentId,
      command: [
        'bash',
        '-c',
        `set -e; git init -q --bare -b main ${remote}; git clone -q ${remote} /tmp/seed; cd /tmp/seed;` +
          ' git -c user.name=seed -c user.email=seed@sandfleet.invalid commit -q --allow-empty -m seed; git push -q origin HEAD:main',
      ],
    });
    expect(seed.row.status, seed.row.output + stderrOf(seed)).toBe('succeeded');
    const taskStep = (taskId: string, push: boolean, script: string) =>
      run({
        agentId,
        kind: 'task',
        taskId,
        workspace: { repo: `file://${remote}`, branch: 'work', push },
        command: ['bash', '-c', script],
      });
    const evil = '/home/agent/.evil';
    const hookNames = [
      'pre-commit',
      'prepare-commit-msg',
      'commit-msg',
      'post-commit',
      'pre-push',
      'post-checkout',
      'post-merge',
      'reference-transaction',
      'pre-auto-gc',
      'pre-receive',
      'update',
      'post-receive',
      'post-update',
    ];
    const marker = (name: string) => `#!/bin/sh\necho "$0 $*" >> /home/agent/markers/${name}\ncat\n`;
    const plant = [
      'set -e',
      `mkdir -p ${evil} /home/agent/markers .git/hooks`,
      ...[...hookNames, 'fsmonitor', 'filter', 'ssh', 'pager', 'helper'].map(
        (name) => `printf '%s' '${marker(name)}' > ${evil}/${name}; chmod +x ${evil}/${name}`,
      ),
      ...hookNames.map(
        (name) => `cp ${evil}/${name} .git/hooks/${name}; cp ${evil}/${name} ${remote}/hooks/${name}`,
      ),
      // The home's global config, read by any git that trusts $HOME …
      `git config --global core.hooksPath ${evil}`,
      `git config --global core.fsmonitor ${evil}/fsmonitor`,
      `git config --global filter.x.clean ${evil}/filter`,
      `git config --global filter.x.smudge ${evil}/filter`,
      'git config --global filter.x.required true',
      `git config --global core.sshCommand ${evil}/ssh`,
      `git config --global core.pager ${evil}/pager`,
      `git config --global credential.helper '!${evil}/helper'`,
      // … the workspace's own persistent config …
      `git config core.hooksPath ${evil}`,
      `git config core.fsmonitor ${evil}/fsmonitor`,
      `git config filter.x.clean ${evil}/filter`,
      `git config filter.x.smudge ${evil}/filter`,
      `git config credential.helper '!${evil}/helper'`,
      `git config include.path ${evil}/included`,
      `printf '[core]\\n\\thooksPath = ${evil}\\n' > ${evil}/included`,
      // … and the remote's.
      `git --git-dir=${remote} config core.hooksPath ${evil}`,
      "printf '* filter=x\\n' > .gitattributes",
      // Proof that the planted commands work for a git that trusts the home: the step's own.
      'git init -q /tmp/proof; cd /tmp/proof; echo x > f; git add f; git -c user.name=p -c user.email=p@sandfleet.invalid commit -q -m proof',
      'echo "proof $(ls /home/agent/markers | wc -l)"; rm -f /home/agent/markers/*',
      'echo planted',
    ].join('\n');
    const planted = await taskStep('T1', false, plant);
    expect(planted.row.status, planted.row.output + stderrOf(planted)).toBe('succeeded');
    const proof = /^proof (\d+)\nplanted\n$/.exec(streamOf(planted, 'stdout'));
    expect(Number(proof?.[1])).toBeGreaterThanOrEqual(3);

    // A later step on the same workspace: the runtime fetches, commits and pushes.
    const later = await taskStep('T1', true, 'echo "content" > data.txt');
    expect(later.row.status, stderrOf(later)).toBe('succeeded');
    const commit = later.runtime.find((e) => e.name === 'git.commit')?.data as { sha: string } | undefined;
    expect(commit?.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(later.row.result).toMatchObject({ exitCode: 0, commit: commit?.sha });

    // A fresh clone in another task workspace, with the planted global config still in the home.
    const cloned = await taskStep('T2', true, 'echo "second" > more.txt');
    expect(cloned.row.status, stderrOf(cloned)).toBe('succeeded');
    const pushed = cloned.runtime.find((e) => e.name === 'git.push')?.data as { sha: string } | undefined;

    // Read back by a step of the same agent whose git trusts nothing of the home (the home's
    // storage is the sandbox's business, so the test does not look into it from the host).
    const check = await run({
      agentId,
      env: { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
      command: [
        'bash',
        '-c',
        [
          `g() { git -c core.hooksPath=/dev/null -c core.fsmonitor=false --git-dir=${remote} "$@"; }`,
          'g rev-parse work; g log --format=%s -3 work; g show work:data.txt work:more.txt work:.gitattributes',
          'echo "markers $(ls -A /home/agent/markers | wc -l)"; ls -A /home/agent/markers',
          'echo ---; cat /home/agent/task-workspaces/T1/.git/config',
        ].join('\n'),
      ],
    });
    expect(check.row.status, check.row.output).toBe('succeeded');
    const [log = '', config = ''] = streamOf(check, 'stdout').split('---\n');
    expect(log.trim().split('\n')).toEqual([
      pushed?.sha,
      `sandfleet: step ${cloned.id}`,
      `sandfleet: step ${later.id}`,
      'seed',
      // What was committed is what the steps wrote, untouched by a clean filter …
      'content',
      'second',
      '* filter=x',
      // … and not one planted command ran: each would have left a marker.
      'markers 0',
    ]);
    // The workspace's config was reset to a safe set: none of the planted keys is left.
    expect(config).not.toMatch(/hookspath|fsmonitor|filter|credential|include/i);
    expect(config).toMatch(/url = "?file:\/\/\/home\/agent\/remote\.git"?/);
  });
});
