import { Command } from 'commander';

/** `sandfleet worker`: run a worker in the foreground until SIGTERM/SIGINT (then it drains). */
export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'run a worker: pull steps from the queue and run them in containers (configured by SANDFLEET_* variables)',
    )
    .action(async () => {
      // Loaded on demand: the worker's dependencies would slow every other command's start.
      const { runWorkerProcess } = await import('@sandfleet/worker');
      await runWorkerProcess(process.env);
    });
}
