import { LABELS } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DockerSandboxOptions, isSandboxError } from '../src/index.js';
import { docker, recordOutput, TestBed } from './support.js';

/** Rounds of the start-up race; each round starts from no proxy and no network. */
const RACE_ROUNDS = Number(process.env.SANDFLEET_RACE_ROUNDS ?? 20);

let bed: TestBed;
let egress: Required<Pick<NonNullable<DockerSandboxOptions['egress']>, 'container' | 'network'>>;
beforeEach(() => {
  bed = new TestBed();
  egress = { container: `sandfleet-test-proxy-${bed.id}`, network: `sandfleet-test-egress-${bed.id}` };
});
afterEach(async () => {
  await bed.cleanUp();
  await removeEgress();
  expect(await networksNamed(bed.agentsNetwork, { prefix: true })).toEqual([]);
});

/** Removes the test's proxy, its lock and its network (only this test's names). */
async function removeEgress(): Promise<void> {
  for (const name of [egress.container, `${egress.container}-lock`]) {
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  }
  for (const network of await networksNamed(egress.network)) {
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch(() => undefined);
  }
}

async function networksNamed(name: string, { prefix = false } = {}) {
  const networks = await docker.listNetworks({ filters: { name: [name] } });
  return networks.filter((n) => n.Name === name || (prefix && n.Name.startsWith(`${name}-`)));
}

const egressSandbox = () => bed.newSandbox({ egress });

/** Exits 0 when the proxy answers (busybox's nc has no -z; Squid answers a bare GET with a 4xx). */
const PROXY_ANSWERS = 'wget -q -O /dev/null http://egress-proxy:3128/ 2>&1 | grep -q "HTTP/1.1 4"';

describe('network', () => {
  it('gives a step with network none no interface but loopback', async () => {
    const output = recordOutput();
    await bed.sandbox.run(bed.request({ argv: ['ls', '/sys/class/net'], network: 'none' }), output.hooks);
    expect(output.text('stdout').split(/\s+/).filter(Boolean)).toEqual(['lo']);
  });

  it('gives an egress step a network of its own with no host address, the proxy on it and the proxy variables', async () => {
    const output = recordOutput();
    const script = [
      'ls /sys/class/net | tr "\\n" " "; echo',
      'echo "proxy=$HTTPS_PROXY"',
      `${PROXY_ANSWERS} && echo proxy-open`,
    ].join('; ');
    const result = await egressSandbox().run(
      bed.request({ argv: ['sh', '-c', script], network: 'egress' }),
      output.hooks,
    );
    expect(result.exitCode).toBe(0);
    const text = output.text('stdout');
    expect(text).toContain('eth0');
    expect(text).toContain('proxy=http://egress-proxy:3128');
    expect(text).toContain('proxy-open');
    // Removed with the step, and the proxy has no leftover interface on it.
    expect(await networksNamed(bed.agentsNetwork, { prefix: true })).toEqual([]);
    const proxy = await docker.getContainer(egress.container).inspect();
    expect(Object.keys(proxy.NetworkSettings.Networks)).toEqual([egress.network]);
  });

  it('makes the step network internal with no host address and labels it as the step’s', async () => {
    const seen = new Promise<Record<string, unknown>>((resolve, reject) => {
      const sandbox = egressSandbox();
      const request = bed.request({ argv: ['sleep', '30'], network: 'egress' });
      const controller = new AbortController();
      const run = sandbox.run(request, {
        onOutput: () => undefined,
        signal: controller.signal,
        onStarted: () => {
          networksNamed(bed.agentsNetwork, { prefix: true })
            .then(async ([network]) => {
              if (!network) throw new Error('no step network');
              resolve({ ...(await docker.getNetwork(network.Id).inspect()), stepId: request.stepId });
            })
            .catch(reject)
            .finally(() => controller.abort('cancel'));
        },
      });
      run.catch(reject);
    });
    const network = (await seen) as {
      Internal: boolean;
      Options: Record<string, string>;
      Labels: Record<string, string>;
      stepId: string;
    };
    expect(network.Internal).toBe(true);
    expect(network.Options).toMatchObject({ 'com.docker.network.bridge.inhibit_ipv4': 'true' });
    expect(network.Labels).toMatchObject({
      [LABELS.managed]: 'true',
      'sandfleet.egress': 'step',
      [LABELS.stepId]: network.stepId,
      [LABELS.workerId]: bed.workerId,
    });
  });

  it(`settles on one egress network and one proxy when four sandboxes race, ${RACE_ROUNDS} times`, async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      await removeEgress();
      const runs = Array.from({ length: 4 }, () => {
        const output = recordOutput();
        const request = bed.request({ argv: ['sh', '-c', PROXY_ANSWERS], network: 'egress' });
        return egressSandbox()
          .run(request, output.hooks)
          .then((result) => result.exitCode);
      });
      expect(await Promise.all(runs), `round ${round}`).toEqual([0, 0, 0, 0]);
      const networks = await networksNamed(egress.network);
      expect(networks, `round ${round}`).toHaveLength(1);
      expect(networks[0]?.Labels).toMatchObject({ [LABELS.managed]: 'true', 'sandfleet.egress': 'network' });
      const proxies = await docker.listContainers({
        all: true,
        filters: { label: ['sandfleet.egress=proxy'] },
      });
      expect(proxies.filter((c) => c.Names.includes(`/${egress.container}`))).toHaveLength(1);
      const locks = await docker.listContainers({
        all: true,
        filters: { name: [`${egress.container}-lock`] },
      });
      expect(locks).toEqual([]);
    }
  }, 600_000);

  it.each([
    ['not labelled', {}, /not labelled sandfleet\.managed=true; remove it or set SANDFLEET_EGRESS_NETWORK/],
    ['internal', { Internal: true, Labels: { [LABELS.managed]: 'true' } }, /is internal/],
  ])('refuses a pre-existing egress network that is %s', async (_problem, options, message) => {
    await docker.createNetwork({ Name: egress.network, Driver: 'bridge', ...options });
    const output = recordOutput();
    const failure = await egressSandbox()
      .run(bed.request({ argv: ['true'], network: 'egress' }), output.hooks)
      .catch((error: unknown) => error);
    expect(isSandboxError(failure, 'NETWORK_SETUP_FAILED')).toBe(true);
    expect((failure as Error).message).toMatch(message);
    expect((failure as { retryable: boolean }).retryable).toBe(false);
    expect(
      await docker
        .getContainer(egress.container)
        .inspect()
        .catch(() => 'absent'),
    ).toBe('absent');
  });

  it('refuses a container of the proxy’s name that is not the proxy', async () => {
    const impostor = await docker.createContainer({
      name: egress.container,
      Image: 'sandfleet/test-busybox:latest',
    });
    const failure = await egressSandbox()
      .run(bed.request({ argv: ['true'], network: 'egress' }), recordOutput().hooks)
      .catch((error: unknown) => error);
    expect(isSandboxError(failure, 'NETWORK_SETUP_FAILED')).toBe(true);
    expect((failure as Error).message).toMatch(
      /not Sandfleet's egress proxy .*; remove it or set SANDFLEET_EGRESS_PROXY/,
    );
    await impostor.remove({ force: true });
  });

  it('says how to build a missing proxy image', async () => {
    const sandbox = bed.newSandbox({
      egress: { ...egress, image: `sandfleet/no-such-proxy-${bed.id}:latest` },
    });
    const failure = await sandbox
      .run(bed.request({ argv: ['true'], network: 'egress' }), recordOutput().hooks)
      .catch((error: unknown) => error);
    expect(isSandboxError(failure, 'IMAGE_NOT_FOUND')).toBe(true);
    expect((failure as Error).message).toMatch(/run infra\/images\/build-images\.sh/);
  });

  it('starts a stopped proxy again', async () => {
    const run = () =>
      egressSandbox()
        .run(bed.request({ argv: ['sh', '-c', PROXY_ANSWERS], network: 'egress' }), recordOutput().hooks)
        .then((result) => result.exitCode);
    expect(await run()).toBe(0);
    await docker.getContainer(egress.container).stop({ t: 1 });
    expect(await run()).toBe(0);
  });

  it('removes the step networks of a dead worker', async () => {
    const network = await docker.createNetwork({
      Name: `${bed.agentsNetwork}-orphan`,
      Internal: true,
      Labels: {
        [LABELS.managed]: 'true',
        'sandfleet.egress': 'step',
        [LABELS.workerId]: bed.otherWorkerId('dead'),
      },
    });
    // Only this test's workers count as dead: other tests' networks on this engine stay.
    const isWorkerAlive = async (workerId: string) => !workerId.endsWith(bed.id);
    await bed.sandbox.reapOrphans({ selfWorkerId: bed.workerId, isWorkerAlive });
    expect(await network.inspect().catch(() => 'gone')).toBe('gone');
  });
});
