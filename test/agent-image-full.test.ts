import { beforeAll, describe, expect, it } from 'vitest';
import {
  agentImage,
  DEBIAN_SUITES,
  dockerRun,
  ensureAgentImage,
  hasTool,
  imageLabels,
  readToolMatrix,
  suitesToTest,
  toolsPresent,
} from './support/agent-image.js';

// The full toolbox takes minutes to build: opt in with SANDFLEET_FULL_IMAGE_TESTS=1. The bookworm
// image (the default) is built by infra/images/build-agent-runtime.sh when missing; the trixie
// one is tested when it exists, or built when SANDFLEET_TRIXIE_IMAGE_TESTS=1. Each describe's
// name says which release and tag it tested; a variant not tested shows as skipped.
const enabled = process.env.SANDFLEET_FULL_IMAGE_TESTS === '1';
const BUILD_TIMEOUT_MS = 90 * 60_000;
// Go compiles its standard library into an empty cache first: ~30 s alone, over 120 s (docker()'s
// default) while an image build shares the two cores.
const COMPILE_TIMEOUT_MS = 300_000;
const rows = readToolMatrix();
const suites = enabled ? suitesToTest('full') : { bookworm: false, trixie: false };

for (const suite of DEBIAN_SUITES) {
  const IMAGE = agentImage('full', suite);
  const present = rows.filter((row) => hasTool(row, 'full', suite));
  const absent = rows.filter((row) => !hasTool(row, 'full', suite));

  describe.skipIf(!suites[suite])(`the full agent-runtime image on Debian ${suite} (${IMAGE})`, () => {
    beforeAll(() => ensureAgentImage('full', BUILD_TIMEOUT_MS, suite), BUILD_TIMEOUT_MS);

    it(`is labelled as the full toolbox on ${suite}`, async () => {
      expect(await imageLabels(IMAGE)).toMatchObject({
        'sandfleet.toolbox': 'full',
        'sandfleet.debian-suite': suite,
      });
      const release = await dockerRun(IMAGE, ['bash', '-c', '. /etc/os-release && echo "$VERSION_CODENAME"']);
      expect(release.stdout).toBe(`${suite}\n`);
    });

    it.for(present)('has $tool', async (row) => {
      const result = await dockerRun(IMAGE, row.check);
      expect(result.code, `${row.check.join(' ')}: ${result.stderr}`).toBe(0);
    });

    if (absent.length > 0) {
      it(`lacks exactly the tools docker/README.md marks absent on ${suite}`, async () => {
        expect(await toolsPresent(IMAGE, absent)).toEqual([]);
      });
    }

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

    it(
      'compiles and runs C, Go and Rust programs and a Python venv without network',
      async () => {
        const script = [
          'set -e; cd "$(mktemp -d)"',
          `printf '#include <stdio.h>\\nint main(void){puts("c ok");return 0;}\\n' > h.c && cc h.c -o hc && ./hc`,
          `printf 'package main\\nimport "fmt"\\nfunc main(){fmt.Println("go ok")}\\n' > h.go && go run h.go`,
          `printf 'fn main(){println!("rust ok");}\\n' > h.rs && rustc -o hr h.rs && ./hr`,
          'python3 -m venv venv && venv/bin/python -c \'print("venv ok")\'',
        ].join('\n');
        const result = await dockerRun(IMAGE, ['bash', '-c', script], [], COMPILE_TIMEOUT_MS - 10_000);
        expect(result.stdout, result.stderr).toBe('c ok\ngo ok\nrust ok\nvenv ok\n');
      },
      COMPILE_TIMEOUT_MS,
    );

    it('runs as agent (uid 1000) with HOME /home/agent', async () => {
      const result = await dockerRun(IMAGE, ['bash', '-c', 'id -u; id -g; echo "$HOME"; pwd']);
      expect(result.stdout).toBe('1000\n1000\n/home/agent\n/home/agent\n');
    });

    // Which Debian package owns each of these tools' binaries: the toolbox has no upstream
    // downloads, so a tool present outside a package would be one.
    const packaged =
      suite === 'bookworm' ? { dust: 'du-dust' } : { delta: 'git-delta', eza: 'eza', dust: 'du-dust' };
    it(`has ${Object.keys(packaged).join(', ')} from Debian packages`, async () => {
      const script = Object.keys(packaged)
        .map((tool) => `dpkg-query -S "$(readlink -f "$(command -v ${tool})")" | cut -d: -f1`)
        .join('\n');
      const result = await dockerRun(IMAGE, ['bash', '-c', `set -e\n${script}`]);
      expect(result.stdout.split('\n'), result.stderr).toEqual([...Object.values(packaged), '']);
    });

    if (suite === 'bookworm') {
      // Trixie's eza needs its libgit2-1.9, which needs glibc 2.38; git-delta needs 2.39. The
      // image must keep bookworm's C library (2.36) rather than take trixie's to run them.
      it("keeps bookworm's libc6 (glibc 2.36) and takes only du-dust from trixie", async () => {
        const script = [
          'dpkg-query -W libc6 | cut -f2',
          'dpkg-query -W du-dust | cut -f2',
          'ldd --version | head -n 1',
          'cat /etc/apt/preferences.d/sandfleet-trixie',
        ].join('\n');
        const result = await dockerRun(IMAGE, ['bash', '-c', script]);
        const [libc, dust, ldd, ...pins] = result.stdout.split('\n');
        expect(libc).toMatch(/^2\.36-9\+deb12u\d+$/);
        expect(dust).toMatch(/^1\.2\.0-/); // bookworm has no du-dust at all
        expect(ldd).toMatch(/ 2\.36$/);
        expect(pins.join('\n')).toBe(
          [
            'Package: *',
            'Pin: release n=trixie',
            'Pin-Priority: -1',
            '',
            'Package: du-dust',
            'Pin: release n=trixie',
            'Pin-Priority: 500',
            '',
          ].join('\n'),
        );
      });
    }
  });
}
