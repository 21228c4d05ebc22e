import { chmodSync, readFileSync, truncateSync, unlinkSync } from 'node:fs';

/**
 * Reads a runtime file the worker wrote for the runtime alone (under `/sandfleet/`, owned by root,
 * mode 0400: the event token, the step's environment), then deletes it, or empties it when it
 * cannot be deleted, before any step code runs. Undefined when the file does not exist.
 */
export function takeRuntimeFile(path: string): string | undefined {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    unlinkSync(path);
  } catch {
    // Not fatal: the file stays root-only; emptied when the directory is not writable.
    try {
      chmodSync(path, 0o600);
      truncateSync(path, 0);
    } catch {}
  }
  return content;
}

/** The step's environment from its runtime file: a JSON object of strings (others ignored). */
export function parseStepEnv(text: string | undefined): Record<string, string> {
  if (text === undefined || text.trim() === '') return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
