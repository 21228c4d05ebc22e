import type { StepSummary } from '@sandfleet/client';

const COLUMNS = ['ID', 'AGENT', 'STATUS', 'EXIT', 'CREATED', 'DURATION'] as const;

/** A step's run time for people: `850ms`, `4.2s`, `3m07s`, `2h05m`; `-` when it has none yet. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}m`;
}

/** An ISO time to the second, in UTC: `2025-01-31 12:00:05`. */
export function formatTime(iso: string): string {
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : time.toISOString().slice(0, 19).replace('T', ' ');
}

/** Steps as an aligned text table: id, agent, status, exit, created (UTC), duration. */
export function formatStepTable(steps: readonly StepSummary[]): string {
  const rows = steps.map((step) => [
    step.id,
    step.agentId,
    step.status,
    step.exitCode === null ? '-' : String(step.exitCode),
    formatTime(step.createdAt),
    formatDuration(step.durationMs),
  ]);
  const widths = COLUMNS.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return [[...COLUMNS], ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
