import type { BenchRow } from './bench-context.ts';

const figure = (value: number | string, unit: BenchRow['unit']): string => {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return 'n/a';
  const digits = unit === 'ms' || unit === 'CPU-ms/step' ? (value < 10 ? 2 : 0) : value < 10 ? 2 : 0;
  return `${value.toFixed(digits)} ${unit}`;
};

/** Sandfleet ÷ raw, or `—` when either is not a figure. */
export function ratio(row: BenchRow): number | undefined {
  if (typeof row.raw !== 'number' || typeof row.sandfleet !== 'number') return undefined;
  if (!Number.isFinite(row.raw) || row.raw === 0 || !Number.isFinite(row.sandfleet)) return undefined;
  return row.sandfleet / row.raw;
}

/** The one table: `measure | raw baseline | sandfleet | ratio`, as Markdown, then the notes. */
export function resultsTable(rows: readonly BenchRow[], notes: readonly string[]): string {
  const lines = [
    '| measure | raw baseline | sandfleet | ratio |',
    '|---|---|---|---|',
    ...rows.map((row) => {
      const r = ratio(row);
      return `| ${row.measure} | ${figure(row.raw, row.unit)} | ${figure(row.sandfleet, row.unit)} | ${r === undefined ? '—' : `${r.toFixed(2)}×`} |`;
    }),
  ];
  return [
    ...lines,
    '',
    'ratio = sandfleet ÷ raw (latency and CPU: lower is better; rates: higher is better).',
    ...notes,
  ].join('\n');
}
