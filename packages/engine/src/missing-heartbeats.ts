/**
 * A reaper's memory of which workers' heartbeats it found missing, and since when. A heartbeat
 * key that expired says a worker missed three beats, not that it died: a paused process, a long
 * GC or a starved CPU does that too, and removing such a worker's containers kills its live
 * steps (seen: a step retried with no fault injected, 200 steps on a loaded 2-core machine).
 * A worker is taken for gone only once its heartbeat has stayed missing for `graceMs`.
 */
export class MissingHeartbeats {
  readonly #graceMs: number;
  readonly #now: () => number;
  readonly #since = new Map<string, number>();

  constructor(graceMs: number, now: () => number = () => performance.now()) {
    this.#graceMs = graceMs;
    this.#now = now;
  }

  /** Records what this sweep saw of the worker; true when it is gone (missing for the grace). */
  isGone(workerId: string, alive: boolean): boolean {
    if (alive) {
      this.#since.delete(workerId);
      return false;
    }
    const now = this.#now();
    const since = this.#since.get(workerId) ?? now;
    this.#since.set(workerId, since);
    return now - since >= this.#graceMs;
  }

  /** Forgets the workers a sweep did not ask about (their containers are gone). */
  keepOnly(workerIds: Iterable<string>): void {
    const keep = new Set(workerIds);
    for (const workerId of this.#since.keys()) if (!keep.has(workerId)) this.#since.delete(workerId);
  }
}
