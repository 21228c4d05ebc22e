import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** Markdown files of the repository as git knows them (tracked, plus new files not ignored). */
function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((line) => line !== '')
    .filter((file) => existsSync(resolve(root, file)));
}

/** Targets of inline links and images: `[text](target)`, without titles or anchors. */
export function linkTargets(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1];
    if (target !== undefined) targets.push(target);
  }
  return targets;
}

function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#');
}

describe('Markdown links', () => {
  it('finds the links of a document, skipping code', () => {
    const doc = 'see [a](docs/a.md#x) and ![b](img.png "t")\n```\n[c](nope.md)\n```\n`[d](nope2.md)`';
    expect(linkTargets(doc)).toEqual(['docs/a.md#x', 'img.png']);
  });

  it('every relative link points at a file inside the repository', () => {
    const problems: string[] = [];
    const files = markdownFiles();
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = readFileSync(resolve(root, file), 'utf8');
      for (const target of linkTargets(text)) {
        if (isExternal(target)) continue;
        const path = decodeURIComponent(target.split('#')[0] ?? '');
        if (path === '') continue;
        const absolute = resolve(root, dirname(file), path);
        const inside = relative(root, absolute);
        if (inside.startsWith('..')) problems.push(`${file}: ${target} leaves the repository`);
        else if (!existsSync(absolute)) problems.push(`${file}: ${target} does not exist`);
      }
    }
    expect(problems).toEqual([]);
  });
});
