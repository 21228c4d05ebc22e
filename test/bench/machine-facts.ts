import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import type Docker from 'dockerode';

/** What the figures were measured on. */
export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  node: string;
  docker: { version: string; apiVersion: string; storageDriver?: string };
  git: { commit: string; dirty: boolean };
  loadAverage: number[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export async function machineFacts(docker: Docker): Promise<MachineFacts> {
  const version = await docker.version();
  const info = (await docker.info()) as { Driver?: string };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    docker: {
      version: version.Version,
      apiVersion: version.ApiVersion,
      ...(info.Driver ? { storageDriver: info.Driver } : {}),
    },
    git: { commit: git(['rev-parse', 'HEAD']), dirty: git(['status', '--porcelain']) !== '' },
    loadAverage: loadAverage(),
  };
}

export const loadAverage = (): number[] => loadavg().map((value) => Math.round(value * 100) / 100);
