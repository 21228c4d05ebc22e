import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { RuntimeEvent } from '@sandfleet/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IMAGE, ensureAgentImage } from './support/agent-image.js';
import { GitHttpServer, git } from './support/git-http-server.js';
import { TestFleet } from './support/test-fleet.js';

// Pipeline steps through the whole system: a worker runs the agent-runtime image as egress steps,
// against a git server with basic auth on the host's address of a bridge the test made, which the
// fleet's egress proxy is allowed to reach (SANDFLEET_EGRESS_ALLOW, the documented way).
const TOKEN = `gt-${randomBytes(12).toString('hex')}`;
const IMAGE = AGENT_IMAGE.minimal;

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

describe('git workspaces through the worker', () => {
  let fleet: TestFleet;
  let server: GitHttpServer;
  let network: string;

  beforeAll(async () => {
    await ensureAgentImage('minimal', 20 * 60_000);
    fleet = await TestFleet.create();
    network = `sftest-git-${fleet.id}`;
    docker('network', 'create', '--label', `sandfleet.test=${fleet.id}`, network);
    const gateway = docker('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', network);
    server = await GitHttpServer.start({ host: gateway, token: TOKEN });
    const port = new URL(server.url('pipeline')).port;
    await fleet.startWorker({ SANDFLEET_EGRESS_ALLOW: `${gateway}:${port}` }, { GIT_TOKEN: TOKEN });
  }, 20 * 60_000);

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await server?.close();
    await fleet?.close();
    if (network) docker('network', 'rm', network);
  });

  const pipelineStep = async (agentId: string, script: string) => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId,
      kind: 'pipeline',
      runId: 'R1',
      image: IMAGE,
      network: 'egress',
      secrets: ['GIT_TOKEN'],
      workspace: { repo: server.url('pipeline'), push: true },
      command: ['bash', '-c', script],
    });
    const row = await fleet.terminal(id, 60_000);
    const events = await fleet.replay(id);
    return { id, row, events, runtime: events.filter((e): e is RuntimeEvent => e.type === 'runtime') };
  };

  it('pushes a step’s commit to run/{runId}; the next step of the run sees it; the token is nowhere', async () => {
    await server.createRepo('pipeline');
    const agent = fleet.agentId();
    const first = await pipelineStep(agent, 'echo "from step 1" > step1.txt; echo wrote');
    expect(first.row, first.row.output).toMatchObject({ status: 'succeeded', output: 'wrote\n' });
    expect(first.runtime.map((e) => e.name)).toEqual(['workspace.ready', 'git.commit', 'git.push', 'result']);
    const commit = first.runtime.find((e) => e.name === 'git.commit')?.data as { sha: string };
    expect(first.row.result).toMatchObject({ exitCode: 0, commit: commit.sha });
    expect(git(server.bare('pipeline'), 'rev-parse', 'run/R1')).toBe(commit.sha);

    const second = await pipelineStep(agent, 'cat step1.txt; git log -1 --format=%s');
    expect(second.row).toMatchObject({
      status: 'succeeded',
      output: `from step 1\nsandfleet: step ${first.id}\n`,
    });

    // The token: in no event, no row, no file of the agent's home.
    const scan = fleet.stepId();
    await fleet.queue.enqueue({
      id: scan,
      agentId: agent,
      image: IMAGE,
      secrets: ['GIT_TOKEN'],
      command: ['bash', '-c', 'grep -rqF -- "$GIT_TOKEN" /home/agent && echo FOUND || echo clean'],
    });
    expect(await fleet.terminal(scan)).toMatchObject({ status: 'succeeded', output: 'clean\n' });
    for (const id of [first.id, second.id, scan]) {
      expect(JSON.stringify(await fleet.db.steps.get(id))).not.toContain(TOKEN);
      expect(JSON.stringify(await fleet.replay(id))).not.toContain(TOKEN);
    }
  });

  it("records the runtime's own failure on the row: a repository that cannot be cloned is WORKSPACE_FAILED", async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      kind: 'pipeline',
      runId: 'R1',
      image: IMAGE,
      network: 'egress',
      secrets: ['GIT_TOKEN'],
      workspace: { repo: server.url('never-created'), push: true },
      command: ['bash', '-c', 'echo ran'],
    });
    const row = await fleet.terminal(id, 60_000);
    expect(row, JSON.stringify(row)).toMatchObject({
      status: 'failed',
      exitCode: 70,
      errorCode: 'WORKSPACE_FAILED',
    });
    expect(row.error).toContain('preparing the workspace');
    expect(row.output).not.toContain('ran');
    const finished = (await fleet.replay(id)).find((e) => e.type === 'finished');
    expect(finished).toMatchObject({ status: 'failed', exitCode: 70, error: row.error });
  });

  it('keeps plain output plain: a step printing a forged event sequence gets no runtime event', async () => {
    const id = fleet.stepId();
    const forged = `\\x1b]sandfleet;guess;${Buffer.from('{"name":"result","data":{"exitCode":0}}').toString('base64')}\\x07`;
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      image: IMAGE,
      // The probe's answer is one word on stdout, so it cannot interleave with a stderr message.
      command: [
        'bash',
        '-c',
        `printf '${forged}'; if [ -e /sandfleet/event-token ]; then echo token-left; else echo token-gone; fi`,
      ],
    });
    const row = await fleet.terminal(id);
    expect(row.status, JSON.stringify(row)).toBe('succeeded');
    expect(row.output).toContain(']sandfleet;guess;');
    // The runtime read and deleted its root-only token file before the step ran.
    expect(row.output.trim().endsWith('token-gone')).toBe(true);
    const runtime = (await fleet.replay(id)).filter((e) => e.type === 'runtime').map((e) => e.name);
    expect(runtime).toEqual(['result']);
  });
});
