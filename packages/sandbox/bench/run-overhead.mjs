// Per-step overhead of Sandbox.run against raw dockerode create → start → wait → remove, measured
// in the same process, interleaved so both see the same engine load. Prints medians; not a test.
// Usage: pnpm --filter @sandfleet/sandbox build && node bench/run-overhead.mjs [iterations]
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { createDockerSandbox } from '../dist/index.js';

const IMAGE = 'sandfleet/test-busybox:latest';
const iterations = Number(process.argv[2] ?? 20);
const warmup = 3;
const id = randomBytes(4).toString('hex');
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const vault = `sandfleet-bench-vault-${id}`;
const homePrefix = 'sandfleet-bench-home-';
const agentId = `bench-${id}`;
const sandbox = createDockerSandbox({ sharedVaultVolume: vault, homeVolumePrefix: homePrefix });

async function raw(hostConfig) {
  const container = await docker.createContainer({ Image: IMAGE, Cmd: ['true'], HostConfig: hostConfig });
  await container.start();
  await container.wait();
  await container.remove({ force: true });
}

/** Same create body as Sandbox.run (profile, limits, volumes, init, no log driver), no attach or archive. */
const sameProfile = {
  Memory: 256 * 2 ** 20,
  MemorySwap: 256 * 2 ** 20,
  NanoCpus: 1e9,
  PidsLimit: 256,
  CapDrop: ['ALL'],
  SecurityOpt: ['no-new-privileges'],
  Init: true,
  NetworkMode: 'none',
  LogConfig: { Type: 'none', Config: {} },
  Mounts: [
    { Type: 'volume', Source: homePrefix + agentId, Target: '/home/agent' },
    { Type: 'volume', Source: vault, Target: '/home/agent/vault/shared' },
  ],
};

const phases = [];
async function viaSandbox() {
  const result = await sandbox.run(
    {
      stepId: `bench-${randomBytes(4).toString('hex')}`,
      agentId,
      workerId: `bench-worker-${id}`,
      attempt: 1,
      image: IMAGE,
      argv: ['true'],
      env: {},
      files: [],
      limits: { timeoutMs: 30_000, memoryMb: 256, cpus: 1, pids: 256 },
      network: 'none',
    },
    { onOutput: () => undefined },
  );
  phases.push(result.timings);
}

const variants = {
  'raw dockerode (defaults: bridge network, json-file logs)': () => raw({}),
  'raw dockerode (same create body as Sandbox.run)': () => raw(sameProfile),
  'Sandbox.run': viaSandbox,
};
const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

try {
  for (let i = 0; i < warmup + iterations; i++) {
    for (const [name, run] of Object.entries(variants)) {
      const start = performance.now();
      await run();
      if (i >= warmup) samples[name].push(performance.now() - start);
    }
  }
  const baseline = median(samples[Object.keys(variants)[0]]);
  console.log(`${iterations} iterations each (after ${warmup} warm-up), ${IMAGE} running \`true\`:`);
  for (const [name, values] of Object.entries(samples)) {
    const m = median(values);
    console.log(`  ${name.padEnd(58)} median ${m.toFixed(1)} ms  (×${(m / baseline).toFixed(3)})`);
  }
  const measured = phases.slice(warmup);
  const phaseMedians = Object.keys(measured[0]).map((key) => `${key} ${median(measured.map((t) => t[key]))}`);
  console.log(`  Sandbox.run phase medians (ms): ${phaseMedians.join(', ')}`);
} finally {
  await sandbox.close();
  for (const name of [homePrefix + agentId, vault])
    await docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
}
