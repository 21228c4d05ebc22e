import { Command } from 'commander';
import type { ApiOptions } from '../cli-context.js';
import type { CheckResult } from '../doctor/doctor-checks.js';

/** `sandfleet doctor [--json]`: checks what Sandfleet needs; exit 1 when any check fails. */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'check Node, configuration, the Docker engine, Redis, PostgreSQL, migrations, images and the API; ' +
        'prints the fix of each failure and exits 1 when any check fails',
    )
    .option('--json', 'print { ok, checks: [{ name, status, detail, fix? }] }')
    .action(async (options: { json?: boolean }, command: Command) => {
      // Loaded on demand: it opens Docker, Redis and PostgreSQL clients.
      const { runDoctorChecks } = await import('../doctor/doctor-checks.js');
      const checks = await runDoctorChecks({ env: process.env, api: command.optsWithGlobals<ApiOptions>() });
      const failed = checks.filter((check) => check.status === 'fail').length;
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ ok: failed === 0, checks }, null, 2)}\n`
          : formatChecks(checks, failed),
      );
      process.exitCode = failed === 0 ? 0 : 1;
    });
}

const LABELS = { ok: 'ok', fail: 'FAIL', skip: 'skip' } as const;

function formatChecks(checks: readonly CheckResult[], failed: number): string {
  const width = Math.max(...checks.map((check) => check.name.length));
  const lines = checks.map((check) => {
    const line = `${LABELS[check.status].padEnd(5)} ${check.name.padEnd(width)}  ${check.detail}`.trimEnd();
    return check.fix ? `${line}\n${' '.repeat(width + 8)}fix: ${check.fix}` : line;
  });
  lines.push(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`);
  return `${lines.join('\n')}\n`;
}
