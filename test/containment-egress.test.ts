import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { promisify } from 'node:util';
import type { EgressEvent, StepEvent } from '@sandfleet/contracts';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IMAGE, ensureAgentImage } from './support/agent-image.js';
import { GIT_USERNAME, GitHttpServer } from './support/git-http-server.js';
import { egressNames, networksNamed } from './support/test-egress.js';
import { TEST_IMAGE, TestFleet } from './support/test-fleet.js';

// Hostile `egress` steps against a real worker: the step probes every way to the host it can
// find, and the test asserts what reached the host (a listener it bound on 0.0.0.0), what the
// proxy logged and what the step's events say. The "internet" is a stand-in HTTP server and a
// git server the test runs on the host's address on a bridge of its own, opened to the proxy by
// SANDFLEET_EGRESS_ALLOW (ip:port), the documented way.
const IMAGE = AGENT_IMAGE.minimal;
const TOKEN = `gt-${randomBytes(12).toString('hex')}`;
const STAND_IN_BODY = `stand-in-${randomBytes(6).toString('hex')}`;
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const sh = (command: string, ...args: string[]) => execFileSync(command, args, { encoding: 'utf8' }).trim();

/** Bash the hostile step runs: every gateway, docker0, the host's addresses and the proxy, three ways each. */
const PROBE = String.raw`
set -u
hex2ip() { printf '%d.%d.%d.%d' "0x$(cut -c7-8 <<<"$1")" "0x$(cut -c5-6 <<<"$1")" "0x$(cut -c3-4 <<<"$1")" "0x$(cut -c1-2 <<<"$1")"; }
targets="$HOST_ADDRS 172.17.0.1 $(getent hosts egress-proxy | awk '{print $1}')"
while read -r _ _ gw _; do
  [[ $gw =~ ^[0-9A-F]{8}$ && $gw != 00000000 ]] && targets="$targets $(hex2ip "$gw")"
done < <(tail -n +2 /proc/net/route)
for t in $(tr ' ' '\n' <<<"$targets" | sort -u); do
  if timeout 2 bash -c "exec 3<>/dev/tcp/$t/$PORT" 2>/dev/null; then echo "direct $t open"; else echo "direct $t closed"; fi
  echo "get $t $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "$HTTP_PROXY" "http://$t:$PORT/")"
  echo "connect $t $(curl -s -o /dev/null -w '%{http_connect}' --max-time 5 -p -x "$HTTP_PROXY" "http://$t:$PORT/")"
done
echo "get-metadata $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "$HTTP_PROXY" http://169.254.169.254/latest/meta-data/)"
echo "connect-metadata $(curl -s -o /dev/null -w '%{http_connect}' --max-time 5 -p -x "$HTTP_PROXY" http://169.254.169.254:80/)"
`;

/** The step's way to the stand-in "internet": plain HTTP, a CONNECT tunnel, and git clone. */
const ALLOWED = `
set -eu
echo "get $(curl -sS --max-time 10 "$STAND_IN")"
echo "connect $(curl -sS --max-time 10 -p -x "$HTTPS_PROXY" "$STAND_IN")"
git clone -q "$GIT_URL" /tmp/clone && echo "cloned $(cat /tmp/clone/README.md)"
`;

/** The host's IPv4 addresses but loopback, as `ip -4 addr` lists them. */
function hostAddresses(): string[] {
  return sh('ip', '-4', '-o', 'addr')
    .split('\n')
    .map((line) => /inet (\d+\.\d+\.\d+\.\d+)/.exec(line)?.[1])
    .filter((address): address is string => address !== undefined && !address.startsWith('127.'));
}

const egressEvents = (events: StepEvent[]) => events.filter((e): e is EgressEvent => e.type === 'egress');

describe('egress containment', () => {
  let fleet: TestFleet;
  let listener: TcpServer;
  let listenerPort: number;
  const arrived: string[] = [];
  let standIn: Server;
  let standInUrl: string;
  let git: GitHttpServer;
  let bridge: string;

  beforeAll(async () => {
    await ensureAgentImage('minimal', 20 * 60_000);
    fleet = await TestFleet.create();
    listener = createTcpServer((socket) => {
      arrived.push(String(socket.remoteAddress));
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
    listenerPort = (listener.address() as AddressInfo).port;

    // The host's address on a bridge of the test's own: where the stand-ins listen, and only there.
    bridge = `sftest-standin-${fleet.id}`;
    await docker.createNetwork({ Name: bridge, Driver: 'bridge', Labels: { 'sandfleet.test': fleet.id } });
    const gateway = sh('docker', 'network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', bridge);
    standIn = createServer((_req, res) => res.end(STAND_IN_BODY));
    await new Promise<void>((resolve) => standIn.listen(0, gateway, resolve));
    const standInPort = (standIn.address() as AddressInfo).port;
    standInUrl = `http://${gateway}:${standInPort}/`;
    git = await GitHttpServer.start({ host: gateway, token: TOKEN });
    await git.createRepo('standin');
    const gitPort = new URL(git.url('standin')).port;
    await fleet.startWorker({ SANDFLEET_EGRESS_ALLOW: `${gateway}:${standInPort},${gateway}:${gitPort}` });
  }, 20 * 60_000);

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await git?.close();
    await new Promise((resolve) => standIn?.close(resolve));
    await new Promise((resolve) => listener?.close(resolve));
    await fleet?.close();
    if (bridge) await docker.getNetwork(bridge).remove();
  });

  const runStep = async (target: TestFleet, spec: Record<string, unknown>, timeoutMs = 90_000) => {
    const id = target.stepId();
    await target.queue.enqueue({ id, agentId: target.agentId(), image: IMAGE, network: 'egress', ...spec });
    const row = await target.terminal(id, timeoutMs);
    return { id, row, events: await target.replay(id) };
  };

  it('reaches nothing on the host: not through any gateway, docker0, the host’s addresses or the proxy', async () => {
    const addresses = hostAddresses();
    const { row, events } = await runStep(fleet, {
      command: ['bash', '-c', PROBE],
      env: { HOST_ADDRS: addresses.join(' '), PORT: String(listenerPort) },
      limits: { timeoutMs: 120_000 },
    });
    expect(row.status, row.output).toBe('succeeded');
    const lines = row.output.trim().split('\n');
    const probed = lines.filter((line) => line.startsWith('direct ')).map((line) => line.split(' ')[1]);
    // It found the gateway of its own network besides what the test told it.
    expect(probed.length, row.output).toBeGreaterThan(addresses.length + 1);
    for (const address of [...addresses, '172.17.0.1']) expect(probed).toContain(address);
    for (const line of lines) {
      if (line.startsWith('direct ')) expect(line).toMatch(/ closed$/);
      else expect(line, row.output).toMatch(/ 403$/);
    }
    expect(arrived).toEqual([]);

    const logged = egressEvents(events);
    for (const address of probed) {
      for (const method of ['GET', 'CONNECT']) {
        expect(logged, `${method} ${address}`).toContainEqual(
          expect.objectContaining({
            method,
            host: address,
            port: listenerPort,
            allowed: false,
            httpStatus: 403,
          }),
        );
      }
    }
    expect(logged.filter((e) => e.host === '169.254.169.254').map((e) => [e.method, e.allowed])).toEqual([
      ['GET', false],
      ['CONNECT', false],
    ]);
    expect(logged.every((e) => !e.allowed && e.attempt === 1)).toBe(true);

    // Control: the listener does see a connection from a container outside Sandfleet's networks
    // (asynchronously: the listener must keep running while the container connects).
    const gateway = sh('docker', 'network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', bridge);
    const control = [
      'run',
      '--rm',
      '--network',
      bridge,
      TEST_IMAGE,
      'sh',
      '-c',
      `echo x | nc ${gateway} ${listenerPort}`,
    ];
    await promisify(execFile)('docker', control, { timeout: 30_000 });
    await expect.poll(() => arrived.length, { timeout: 10_000 }).toBe(1);
    arrived.length = 0;
  }, 180_000);

  it('reaches the allowed stand-in server by plain HTTP and CONNECT, and clones over http through the proxy', async () => {
    const gitUrl = git.url('standin').replace('http://', `http://${GIT_USERNAME}:${TOKEN}@`);
    const { row, events } = await runStep(fleet, {
      command: ['bash', '-c', ALLOWED],
      env: { STAND_IN: standInUrl, GIT_URL: gitUrl },
    });
    expect(row.status, row.output).toBe('succeeded');
    expect(row.output).toContain(`get ${STAND_IN_BODY}`);
    expect(row.output).toContain(`connect ${STAND_IN_BODY}`);
    expect(row.output).toContain('cloned # standin');
    expect(git.requests.some((request) => request.status === 200)).toBe(true);

    const { hostname, port } = new URL(standInUrl);
    const logged = egressEvents(events);
    for (const method of ['GET', 'CONNECT']) {
      expect(logged).toContainEqual(
        expect.objectContaining({ method, host: hostname, port: Number(port), allowed: true }),
      );
    }
    expect(
      logged.filter((e) => e.method === 'GET' && e.host === hostname && e.port === Number(port))[0]
        ?.bytesReceived,
    ).toBeGreaterThan(STAND_IN_BODY.length);
    expect(arrived).toEqual([]);
  });

  it('leaves network none with loopback only', async () => {
    const { row } = await runStep(fleet, {
      network: 'none',
      image: TEST_IMAGE,
      command: ['ls', '/sys/class/net'],
    });
    expect(row.status).toBe('succeeded');
    expect(row.output.split(/\s+/).filter(Boolean)).toEqual(['lo']);
  });

  it('refuses a pre-existing egress network of the configured name that is not Sandfleet’s', async () => {
    const bad = await TestFleet.create();
    const { network } = egressNames(bad.id);
    // Inter-container traffic on, no label: what a careless operator (or an attacker) leaves.
    await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: { 'sandfleet.test': bad.id } });
    try {
      await bad.startWorker();
      const { row, events } = await runStep(bad, { image: TEST_IMAGE, command: ['true'] });
      expect(row.status).toBe('error');
      expect(row.error).toMatch(
        new RegExp(
          `network ${network} exists but is not labelled sandfleet.managed=true; remove it or set SANDFLEET_EGRESS_NETWORK`,
        ),
      );
      expect(events.filter((e) => e.type === 'output')).toEqual([]);
      expect(
        await docker
          .getContainer(egressNames(bad.id).proxy)
          .inspect()
          .catch(() => 'absent'),
      ).toBe('absent');
    } finally {
      await bad.close();
    }
  });

  it('settles three workers starting at once on one network and one proxy, and runs every egress step', async () => {
    const race = await TestFleet.create();
    try {
      // Two slots each: six steps at once keep all three workers busy, so they race for the proxy.
      const slots = { SANDFLEET_WORKER_CONCURRENCY: '2' };
      await Promise.all([race.startWorker(slots), race.startWorker(slots), race.startWorker(slots)]);
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          runStep(race, {
            image: TEST_IMAGE,
            command: [
              'sh',
              '-c',
              'wget -q -O /dev/null http://egress-proxy:3128/ 2>&1 | grep -q "HTTP/1.1 4"',
            ],
          }),
        ),
      );
      expect(results.map((r) => r.row.status)).toEqual(Array(6).fill('succeeded'));
      expect(new Set(results.map((r) => r.row.workerId)).size).toBeGreaterThan(1);
      const names = egressNames(race.id);
      expect(await networksNamed(names.network)).toHaveLength(1);
      const proxies = await docker.listContainers({
        all: true,
        filters: { label: ['sandfleet.egress=proxy'] },
      });
      expect(proxies.filter((c) => c.Names.includes(`/${names.proxy}`))).toHaveLength(1);
      expect(await networksNamed(names.agentsPrefix, true)).toEqual([]);
    } finally {
      await race.close();
    }
  }, 180_000);
});
