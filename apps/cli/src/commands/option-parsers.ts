import { InvalidArgumentError } from 'commander';

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

/** `KEY=VALUE` pairs to an object; the value may contain `=`. */
export function keyValues(pairs: readonly string[], option: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`${option} takes KEY=VALUE, got ${JSON.stringify(pair)}`);
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}
