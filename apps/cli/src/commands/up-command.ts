import { Command } from 'commander';

/** `sandfleet up`: the API and a worker in one process, until SIGTERM/SIGINT. */
export function upCommand(): Command {
  return new Command('up')
    .description(
      'run the HTTP API and a worker in one process (one set of metrics); SIGTERM/SIGINT closes the API, then drains the worker',
    )
    .action(async () => {
      // Loaded on demand, with the API's and the worker's dependencies.
      const { runUpProcess } = await import('../up/run-up-process.js');
      await runUpProcess(process.env);
    });
}
