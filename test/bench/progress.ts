/** Progress lines on stderr, each with the seconds since the run began, so stdout holds only the table. */
export class Progress {
  readonly #start = performance.now();

  log(message: string): void {
    const seconds = ((performance.now() - this.#start) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[bench ${seconds}s] ${message}\n`);
  }

  /** Runs `work`, logging when it starts and when it is done (or failed). */
  async step<T>(what: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    this.log(`${what}: starting`);
    try {
      const result = await work();
      this.log(`${what}: done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      return result;
    } catch (error) {
      this.log(`${what}: failed: ${(error as Error).message}`);
      throw error;
    }
  }
}
