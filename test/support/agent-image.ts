import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOOLBOX_README = `${REPO_ROOT}docker/README.md`;
const BUILD_SCRIPT = `${REPO_ROOT}infra/images/build-agent-runtime.sh`;

export type Toolbox = 'minimal' | 'full';
/** Debian release of the image's base (`build-agent-runtime.sh <toolbox> <suite>`). */
export type DebianSuite = 'bookworm' | 'trixie';
export const DEBIAN_SUITES: readonly DebianSuite[] = ['bookworm', 'trixie'];

/**
 * The bookworm images, the default ones (the tags the rest of the tests use).
 * `SANDFLEET_AGENT_IMAGE_TAG` replaces the minimal one: a runtime change tried on its own tag.
 */
export const AGENT_IMAGE: Record<Toolbox, string> = {
  minimal: process.env.SANDFLEET_AGENT_IMAGE_TAG || 'sandfleet/agent-runtime:minimal',
  full: 'sandfleet/agent-runtime:latest',
};

/** The tag build-agent-runtime.sh gives the image of that toolbox on that Debian release. */
export function agentImage(toolbox: Toolbox, suite: DebianSuite): string {
  if (suite === 'bookworm') return AGENT_IMAGE[toolbox];
  return toolbox === 'full' ? `sandfleet/agent-runtime:${suite}` : `sandfleet/agent-runtime:minimal-${suite}`;
}

/** One row of the tool matrix in docker/README.md. */
export interface ToolRow {
  tool: string;
  /** argv that must exit 0 where the tool is present (and fails where it is absent). */
  check: string[];
  /** In the minimal toolbox (on either release). */
  minimal: boolean;
  /** In the full toolbox, per Debian release. */
  full: Record<DebianSuite, boolean>;
}

/** Whether the image of `toolbox` on `suite` has the row's tool, by the README's table. */
export function hasTool(row: ToolRow, toolbox: Toolbox, suite: DebianSuite): boolean {
  return toolbox === 'minimal' ? row.minimal : row.full[suite];
}

/** Columns of the matrix the tests read, by their header text. */
const COLUMNS = ['tool', 'check', 'minimal', 'full bookworm', 'full trixie'] as const;

/**
 * The tool matrix of docker/README.md (the rows between the `toolbox:start` and `toolbox:end`
 * markers): the README is the list the tests hold the images to, so it stays the truth. Columns
 * are found by their header, so the table may carry others (the versions measured).
 */
export function readToolMatrix(): ToolRow[] {
  const text = readFileSync(TOOLBOX_README, 'utf8');
  const block = /<!-- toolbox:start -->([\s\S]*?)<!-- toolbox:end -->/.exec(text)?.[1];
  if (block === undefined) throw new Error(`${TOOLBOX_README}: no toolbox:start/end markers`);
  const [header = [], , ...rows] = block
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  const at = Object.fromEntries(
    COLUMNS.map((name) => {
      const index = header.indexOf(name);
      if (index < 0) throw new Error(`${TOOLBOX_README}: the toolbox table has no column '${name}'`);
      return [name, index];
    }),
  ) as Record<(typeof COLUMNS)[number], number>;
  return rows.map((cells) => {
    const cell = (name: (typeof COLUMNS)[number]) => cells[at[name]] ?? '';
    const tool = cell('tool');
    const argv = /^`([^`]+)`$/.exec(cell('check'))?.[1]?.split(/\s+/);
    if (!tool || !argv) throw new Error(`${TOOLBOX_README}: bad toolbox row ${cells.join('|')}`);
    return {
      tool,
      check: argv,
      minimal: availability(cell('minimal'), tool),
      full: {
        bookworm: availability(cell('full bookworm'), tool),
        trixie: availability(cell('full trixie'), tool),
      },
    };
  });
}

function availability(cell: string, tool: string): boolean {
  if (cell === 'yes' || cell === 'no') return cell === 'yes';
  throw new Error(`${TOOLBOX_README}: ${tool}: availability '${cell}' is not yes or no`);
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the docker CLI; resolves with the exit code instead of throwing. */
export function docker(args: string[], timeoutMs = 120_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `docker run --rm` of `argv` in `image`, without network. */
export function dockerRun(
  image: string,
  argv: string[],
  extra: string[] = [],
  timeoutMs?: number,
): Promise<CommandResult> {
  return docker(['run', '--rm', '--network', 'none', ...extra, image, ...argv], timeoutMs);
}

/**
 * Builds the image with infra/images/build-agent-runtime.sh unless it exists (the script skips
 * an existing image itself); its progress goes to the test's output.
 */
export async function ensureAgentImage(
  toolbox: Toolbox,
  timeoutMs: number,
  suite: DebianSuite = 'bookworm',
): Promise<void> {
  // Asynchronous: a build of minutes must not block the test worker (vitest then times out its
  // own reports and fails the run although every test passed).
  const build = spawn('bash', [BUILD_SCRIPT, toolbox, suite], {
    stdio: 'inherit',
    timeout: timeoutMs,
    env: { ...process.env, SANDFLEET_AGENT_IMAGE_TAG: agentImage(toolbox, suite) },
  });
  const [status, signal] = (await once(build, 'close')) as [number | null, NodeJS.Signals | null];
  if (status !== 0) {
    throw new Error(
      `${BUILD_SCRIPT} ${toolbox} ${suite} failed (status ${status}, signal ${signal ?? 'none'})`,
    );
  }
}

/** Whether the engine has the image (checked synchronously, so a test file can choose its suites). */
export function imageExists(image: string): boolean {
  return spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status === 0;
}

/**
 * The Debian releases a test file covers for `toolbox`: bookworm always (its image is built when
 * missing), trixie when its image exists or `SANDFLEET_TRIXIE_IMAGE_TESTS=1` asks for it to be
 * built.
 */
export function suitesToTest(toolbox: Toolbox): Record<DebianSuite, boolean> {
  return {
    bookworm: true,
    trixie: process.env.SANDFLEET_TRIXIE_IMAGE_TESTS === '1' || imageExists(agentImage(toolbox, 'trixie')),
  };
}

/** The image's labels. */
export async function imageLabels(image: string): Promise<Record<string, string>> {
  const result = await docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', image]);
  if (result.code !== 0) throw new Error(`docker image inspect ${image}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/**
 * Tools whose check succeeds in one container of `image`, among `rows`; for proving absence with
 * one container rather than one per tool.
 */
export async function toolsPresent(image: string, rows: ToolRow[]): Promise<string[]> {
  const script = rows
    .map((row, i) => `if ${row.check.join(' ')} >/dev/null 2>&1; then echo ${i}; fi`)
    .join('\n');
  const result = await dockerRun(image, ['bash', '-c', script]);
  if (result.code !== 0) throw new Error(`presence script failed: ${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((i) => rows[Number(i)]?.tool ?? `?${i}`);
}
