import { Command } from 'commander';
import { withContext } from '../with-context.js';

/** `sandfleet migrate`: bring the PostgreSQL schema to the latest migration; a no-op when it is. */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations (re-running is a no-op)')
    .action((_options: unknown, command: Command) =>
      withContext(command, async (ctx) => {
        const { applied } = await (await (await ctx.direct()).db()).migrate();
        process.stdout.write(
          applied.length === 0
            ? 'database schema is up to date\n'
            : `applied ${applied.length} migration(s): ${applied.join(', ')}\n`,
        );
        return 0;
      }),
    );
}
