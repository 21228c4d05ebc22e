import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOOLBOX_README = `${REPO_ROOT}docker/README.md`;
const BUILD_SCRIPT = `${REPO_ROOT}infra/images/build-agent-runtime.sh`;

export type Toolbox = 'minimal' | 'full';
export const AGENT_IMAGE: Record<Toolbox, string> = {
  minimal: 'sandfleet/agent-runtime:minimal',
  full: 'sandfleet/agent-runtime:latest',
};

/** Whether a build has a tool: always, never, or only when built with `UPSTREAM_DOWNLOADS=1`. */
export type Availability = 'yes' | 'no' | 'upstream';

/** One row of the tool matrix in docker/README.md. */
export interface ToolRow {
  tool: string;
  /** argv that must exit 0 where the tool is present (and fails where it is absent). */
  check: string[];
  minimal: Availability;
  full: Availability;
}

/**
 * The tool matrix of docker/README.md (the rows between the `toolbox:start` and `toolbox:end`
 * markers): the README is the list the tests hold the images to, so it stays the truth.
 */
export function readToolMatrix(): ToolRow[] {
  const text = readFileSync(TOOLBOX_README, 'utf8');
  const block = /<!-- toolbox:start -->([\s\S]*?)<!-- toolbox:end -->/.exec(text)?.[1];
  if (block === undefined) throw new Error(`${TOOLBOX_README}: no toolbox:start/end markers`);
  const rows = block
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2) // header and separator
    .map((line) => line.split('|').map((cell) => cell.trim()));
  return rows.map((cells) => {
    const [, tool = '', check = '', minimal = '', full = ''] = cells;
    const argv = /^`([^`]+)`$/.exec(check)?.[1]?.split(/\s+/);
    if (!tool || !argv) throw new Error(`${TOOLBOX_README}: bad toolbox row ${cells.join('|')}`);
    return { tool, check: argv, minimal: availability(minimal, tool), full: availability(full, tool) };
  });
}

function availability(cell: string, tool: string): Availability {
  if (cell === 'yes' || cell === 'no' || cell === 'upstream') return cell;
  throw new Error(`${TOOLBOX_README}: ${tool}: availability '${cell}' is not yes, no or upstream`);
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
export function dockerRun(image: string, argv: string[], extra: string[] = []): Promise<CommandResult> {
  return docker(['run', '--rm', '--network', 'none', ...extra, image, ...argv]);
}

/**
 * Builds the image with infra/images/build-agent-runtime.sh unless it exists (the script skips
 * an existing image itself); its progress goes to the test's output.
 */
export function ensureAgentImage(toolbox: Toolbox, timeoutMs: number): void {
  const result = spawnSync('bash', [BUILD_SCRIPT, toolbox], { stdio: 'inherit', timeout: timeoutMs });
  if (result.status !== 0) {
    throw new Error(
      `${BUILD_SCRIPT} ${toolbox} failed (status ${result.status}, ${result.error ?? 'no error'})`,
    );
  }
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
