import { beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_IMAGE,
  dockerRun,
  ensureAgentImage,
  imageLabels,
  readToolMatrix,
  type ToolRow,
  toolsPresent,
} from './support/agent-image.js';

// The full toolbox takes many minutes to build: opt in with SANDFLEET_FULL_IMAGE_TESTS=1 (the
// image is built by infra/images/build-agent-runtime.sh full when missing).
const enabled = process.env.SANDFLEET_FULL_IMAGE_TESTS === '1';
const IMAGE = AGENT_IMAGE.full;
const BUILD_TIMEOUT_MS = 90 * 60_000;
const rows = readToolMatrix();

describe.skipIf(!enabled)('the full agent-runtime image', () => {
  let upstream = false;
  beforeAll(async () => {
    ensureAgentImage('full', BUILD_TIMEOUT_MS);
    const labels = await imageLabels(IMAGE);
    expect(labels).toMatchObject({ 'sandfleet.toolbox': 'full' });
    upstream = labels['sandfleet.upstream-downloads'] === '1';
  }, BUILD_TIMEOUT_MS);

  const expected = (row: ToolRow) => row.full === 'yes' || (row.full === 'upstream' && upstream);

  it.for(rows.filter((row) => row.full !== 'no'))('has $tool', async (row, { skip }) => {
    if (!expected(row)) skip('upstream-only tool; the image was built with UPSTREAM_DOWNLOADS=0');
    const result = await dockerRun(IMAGE, row.check);
    expect(result.code, `${row.check.join(' ')}: ${result.stderr}`).toBe(0);
  });

  it('lacks exactly the upstream-only tools when built without upstream downloads', async () => {
    const absent = rows.filter((row) => !expected(row));
    expect(await toolsPresent(IMAGE, absent)).toEqual([]);
  });

  it('runs Node.js 22, Go 1.23 or later and a current Rust', async () => {
    const node = await dockerRun(IMAGE, ['node', '--version']);
    expect(node.stdout).toMatch(/^v22\./);
    const go = await dockerRun(IMAGE, ['go', 'version']);
    const [, goMinor] = /go1\.(\d+)/.exec(go.stdout) ?? [];
    expect(Number(goMinor)).toBeGreaterThanOrEqual(23);
    const rustc = await dockerRun(IMAGE, ['rustc', '--version']);
    const [, rustMinor] = /rustc 1\.(\d+)/.exec(rustc.stdout) ?? [];
    expect(Number(rustMinor)).toBeGreaterThanOrEqual(80);
  });

  it('compiles and runs C, Go and Rust programs and a Python venv without network', async () => {
    const script = [
      'set -e; cd "$(mktemp -d)"',
      `printf '#include <stdio.h>\\nint main(void){puts("c ok");return 0;}\\n' > h.c && cc h.c -o hc && ./hc`,
      `printf 'package main\\nimport "fmt"\\nfunc main(){fmt.Println("go ok")}\\n' > h.go && go run h.go`,
      `printf 'fn main(){println!("rust ok");}\\n' > h.rs && rustc -o hr h.rs && ./hr`,
      'python3 -m venv venv && venv/bin/python -c \'print("venv ok")\'',
    ].join('\n');
    const result = await dockerRun(IMAGE, ['bash', '-c', script]);
    expect(result.stdout, result.stderr).toBe('c ok\ngo ok\nrust ok\nvenv ok\n');
  }, 300_000); // Go compiles its standard library into an empty cache first: ~30 s here.

  it('runs as agent (uid 1000) with HOME /home/agent', async () => {
    const result = await dockerRun(IMAGE, ['bash', '-c', 'id -u; id -g; echo "$HOME"; pwd']);
    expect(result.stdout).toBe('1000\n1000\n/home/agent\n/home/agent\n');
  });
});
