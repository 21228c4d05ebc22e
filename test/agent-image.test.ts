import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  agentImage,
  DEBIAN_SUITES,
  docker,
  dockerRun,
  ensureAgentImage,
  imageLabels,
  readToolMatrix,
  suitesToTest,
  toolsPresent,
} from './support/agent-image.js';

const rows = readToolMatrix();
const EXTRA_CA_DIR = '/usr/local/share/ca-certificates';
// bookworm always (built when missing); trixie when its image exists or
// SANDFLEET_TRIXIE_IMAGE_TESTS=1 asks for it to be built.
const suites = suitesToTest('minimal');

for (const suite of DEBIAN_SUITES) {
  const IMAGE = agentImage('minimal', suite);
  describe.skipIf(!suites[suite])(`the minimal agent-runtime image on Debian ${suite} (${IMAGE})`, () => {
    beforeAll(() => ensureAgentImage('minimal', 20 * 60_000, suite), 20 * 60_000);

    it(`is labelled as the minimal toolbox on ${suite}`, async () => {
      expect(await imageLabels(IMAGE)).toMatchObject({
        'sandfleet.toolbox': 'minimal',
        'sandfleet.debian-suite': suite,
      });
    });

    it.each(rows.filter((row) => row.minimal))('has $tool', async (row) => {
      const result = await dockerRun(IMAGE, row.check);
      expect(result.code, `${row.check.join(' ')}: ${result.stderr}`).toBe(0);
    });

    it('has none of the tools docker/README.md lists for the full toolbox only', async () => {
      expect(
        await toolsPresent(
          IMAGE,
          rows.filter((row) => !row.minimal),
        ),
      ).toEqual([]);
    });

    it('runs Node.js 22', async () => {
      const result = await dockerRun(IMAGE, ['node', '--version']);
      expect(result.stdout).toMatch(/^v22\.\d+\.\d+\n$/);
    });

    it('runs as agent (uid 1000, gid 1000) with HOME and working directory /home/agent', async () => {
      const result = await dockerRun(IMAGE, ['bash', '-c', 'id -un; id -u; id -g; echo "$HOME"; pwd']);
      expect(result.stdout.split('\n')).toEqual(['agent', '1000', '1000', '/home/agent', '/home/agent', '']);
    });

    it('copies the agent home layout, owned by agent, into a new home volume', async () => {
      const volume = `sandfleet-test-image-home-${randomBytes(4).toString('hex')}`;
      try {
        const result = await dockerRun(
          IMAGE,
          [
            'stat',
            '-c',
            '%U:%G %n',
            'vault',
            'vault/shared',
            'run-workspace',
            'project-workspace',
            'task-workspaces',
          ],
          ['-v', `${volume}:/home/agent`],
        );
        expect(result.stdout.split('\n')).toEqual([
          'agent:agent vault',
          'agent:agent vault/shared',
          'agent:agent run-workspace',
          'agent:agent project-workspace',
          'agent:agent task-workspaces',
          '',
        ]);
      } finally {
        await docker(['volume', 'rm', '-f', volume]);
      }
    });

    // The build installed Node and npm from the npm registry over HTTPS, so building at all proved
    // that HTTPS worked inside a build step; this checks it did so by trusting the host's CAs.
    it("trusts the build machine's extra CA certificates", async () => {
      const hostCerts = (
        existsSync(EXTRA_CA_DIR) ? readdirSync(EXTRA_CA_DIR, { recursive: true, encoding: 'utf8' }) : []
      )
        .filter((name) => name.endsWith('.crt'))
        .map((name) => pemBody(readFileSync(`${EXTRA_CA_DIR}/${name}`, 'utf8')));
      const bundle = await dockerRun(IMAGE, ['cat', '/etc/ssl/certs/ca-certificates.crt']);
      expect(bundle.code).toBe(0);
      const trusted = new Set(bundle.stdout.split('-----END CERTIFICATE-----').map(pemBody));
      for (const cert of hostCerts) expect(trusted.has(cert)).toBe(true);
      const env = await dockerRun(IMAGE, ['printenv', 'NODE_EXTRA_CA_CERTS']);
      expect(env.stdout).toBe('/etc/ssl/certs/ca-certificates.crt\n');
    });
  });
}

/** The base64 body of the (first) certificate in a PEM text, whitespace removed. */
function pemBody(pem: string): string {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)(-----END CERTIFICATE-----|$)/.exec(pem);
  return (match?.[1] ?? '').replace(/\s+/g, '');
}
