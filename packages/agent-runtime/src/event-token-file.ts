import { chmodSync, readFileSync, truncateSync } from 'node:fs';

/**
 * Reads the event token the worker wrote to `SANDFLEET_EVENT_TOKEN_FILE`, then empties the file,
 * before any step code runs: the token never sits in an environment (which the step could read
 * from /proc), so the step cannot forge the runtime's events. Falls back to
 * `SANDFLEET_EVENT_TOKEN` (older workers); undefined when neither is set.
 */
export function takeEventToken(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = env.SANDFLEET_EVENT_TOKEN_FILE;
  if (!file) return env.SANDFLEET_EVENT_TOKEN || undefined;
  const token = readFileSync(file, 'utf8').trim();
  // The file is the agent's own (mode 0444): make it writable to empty it. Failure to empty it is
  // not fatal, the token still authenticates events.
  try {
    chmodSync(file, 0o600);
    truncateSync(file, 0);
  } catch {}
  return token || undefined;
}
