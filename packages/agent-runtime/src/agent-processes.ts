import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How often the runtime looks again for processes of the agent after killing them. */
const KILL_ROUNDS = 50;

/**
 * Kills every process of the container but the init and the runtime itself (`kill(-1, SIGKILL)`,
 * which the kernel applies atomically, so a forking process cannot slip past), then checks /proc
 * until no process of `uid` is left. The runtime (root with `CAP_KILL`) does this after the step,
 * before its own work in the home as that uid: nothing of the step can then tamper with it.
 * @throws Error when processes of `uid` survive every round.
 */
export async function killAgentProcesses(uid: number): Promise<void> {
  for (let round = 0; round < KILL_ROUNDS; round++) {
    try {
      process.kill(-1, 'SIGKILL');
    } catch {
      // ESRCH: nothing else is left to signal.
    }
    if (agentProcesses(uid).length === 0) return;
    await sleep(10);
  }
  throw new Error(`processes of uid ${uid} survived SIGKILL: ${agentProcesses(uid).join(', ')}`);
}

/** Pids of live (not zombie) processes whose real uid is `uid`. */
export function agentProcesses(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    const state = /^State:\s+(\S)/m.exec(status)?.[1];
    if (real === String(uid) && state !== 'Z' && state !== 'X') pids.push(Number(entry));
  }
  return pids;
}
