import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
const REPO = 'https://github.com/resmon/resmon';
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (page: string) => readFileSync(join(root, page), 'utf8');

describe('the README and docs/ stand alone', () => {
  it('refer to no file outside the repository (the design notes are not shipped: state the rule)', () => {
    const outside = pages.flatMap((page) =>
      text(page)
        .split('\n')
        .map((line, i) => [line, i + 1] as const)
        .filter(([line]) => /\bDESIGN\b|\.\.\/shared|shared\/DESIGN|§\d/.test(line))
        .map(([line, n]) => `${page}:${n}: ${line.trim()}`),
    );
    expect(outside).toEqual([]);
  });

  it('link from the README to docs/ by absolute repository links that name existing files', () => {
    const readme = text('README.md');
    expect(readme).not.toMatch(/\]\((\.\/)?docs\//);
    const targets = [...readme.matchAll(new RegExp(`\\]\\(${REPO}/blob/main/(docs/[^)#]+)`, 'g'))].map((m) => m[1] as string);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(existsSync(join(root, target)), target).toBe(true);
  });

  it('package.json names the repository, the home page and where to report bugs, and ships docs/', () => {
    expect(pkg.repository).toEqual({ type: 'git', url: `git+${REPO}.git` });
    expect(pkg.homepage).toBe(`${REPO}#readme`);
    expect(pkg.bugs).toEqual({ url: `${REPO}/issues` });
    expect(pkg.files).toContain('docs');
  });
});
