import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Keys of a repository's config that survive {@link safeRepoConfig}: the repository's format, the
 * `origin` remote's URL and refspecs, branch tracking and the commit identity. Nothing here can
 * name a command (hooks, filters, fsmonitor, sshCommand, credential helpers, pagers, includes,
 * aliases, `url.*.insteadOf`, `core.worktree`, worktree configs: all dropped).
 */
const SAFE_KEY =
  /^(core\.(repositoryformatversion|bare|filemode|logallrefupdates|ignorecase|precomposeunicode|symlinks)|extensions\.objectformat|remote\.origin\.(url|fetch)|branch\.[^\n]+\.(remote|merge)|user\.(name|email))$/;

/** One `key=value` of `git config --null --list`. */
export interface ConfigEntry {
  key: string;
  value: string;
}

/** Parses `git config --null --list`: `key\nvalue\0` per entry (`key\0` for a key without value). */
export function parseConfigList(text: string): ConfigEntry[] {
  return text
    .split('\0')
    .filter((entry) => entry !== '')
    .map((entry) => {
      const newline = entry.indexOf('\n');
      return newline === -1
        ? { key: entry, value: 'true' }
        : { key: entry.slice(0, newline), value: entry.slice(newline + 1) };
    });
}

/** The config file text holding only the safe entries of `entries`, in their order. */
export function safeRepoConfig(entries: readonly ConfigEntry[]): string {
  const sections = new Map<string, string[]>();
  for (const { key, value } of entries) {
    if (!SAFE_KEY.test(key)) continue;
    const first = key.indexOf('.');
    const last = key.lastIndexOf('.');
    const section = key.slice(0, first);
    const header =
      first === last ? `[${section}]` : `[${section} "${quote(key.slice(first + 1, last), false)}"]`;
    sections.set(header, [
      ...(sections.get(header) ?? []),
      `\t${key.slice(last + 1)} = "${quote(value, true)}"`,
    ]);
  }
  return [...sections].map(([header, lines]) => `${header}\n${lines.join('\n')}\n`).join('');
}

/** Replaces the config of the repository at `gitDir` (atomically) by `text`. */
export async function writeRepoConfig(gitDir: string, text: string): Promise<void> {
  const path = join(gitDir, 'config');
  const temporary = `${path}.sandfleet-${process.pid}`;
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, path);
}

function quote(text: string, value: boolean): string {
  const escaped = text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return value ? escaped.replace(/\n/g, '\\n').replace(/\t/g, '\\t') : escaped;
}
