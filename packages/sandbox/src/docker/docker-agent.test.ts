import { Agent, request } from 'node:http';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerAgent } from './docker-agent.js';

/** docker-modem's own inspection of every request's options. */
const asModemLogsIt = (value: unknown) => inspect({ agent: value }, { showHidden: true, depth: null });

/** One request to the engine through `agent`, which then keeps the socket open. */
async function ping(agent: Agent): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = request({ socketPath: '/var/run/docker.sock', path: '/_ping', agent }, (res) => {
      res.resume();
      res.once('end', () => resolve());
    });
    req.once('error', reject);
    req.end();
  });
}

describe('DockerAgent', () => {
  const agents: Agent[] = [];
  afterEach(() => {
    for (const agent of agents.splice(0)) agent.destroy();
  });

  it('keeps its socket to the engine open between requests', async () => {
    const agent = new DockerAgent();
    agents.push(agent);
    await ping(agent);
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
  });

  it('stays one word in the options docker-modem inspects on every call', async () => {
    const agent = new DockerAgent();
    const plain = new Agent({ keepAlive: true });
    agents.push(agent, plain);
    await Promise.all([ping(agent), ping(plain)]);
    expect(asModemLogsIt(agent)).toBe('{ agent: DockerAgent }');
    // What it spares: the same inspection of a plain keep-alive agent holding one socket.
    expect(asModemLogsIt(plain).length).toBeGreaterThan(5_000);
  });
});
