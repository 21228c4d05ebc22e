import { Command } from 'commander';

/** `sandfleet api`: the HTTP API in the foreground until SIGTERM/SIGINT. */
export function apiCommand(): Command {
  return new Command('api')
    .description(
      'run the HTTP API (steps, SSE events, Bull Board, metrics) in the foreground; configured by SANDFLEET_API_* variables',
    )
    .action(async () => {
      // Loaded on demand: Fastify, Bull Board and Swagger would slow every other command's start.
      const { runApiProcess } = await import('@sandfleet/api');
      await runApiProcess(process.env);
    });
}
