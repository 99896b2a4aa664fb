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

  it('link to files of the repository only by absolute links (relative ones break on npm), and every #anchor names a heading', () => {
    // GitHub's heading ids: lower case, punctuation dropped (not - or _), spaces as hyphens.
    const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');
    const anchors = (page: string) =>
      new Set([...text(page).replace(/```[\s\S]*?```/g, '').matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1] as string)));
    const bad: string[] = [];
    for (const page of pages) {
      for (const [, link] of text(page).matchAll(/\]\(([^)\s]+)\)/g) as IterableIterator<[string, string]>) {
        const repo = link.startsWith(`${REPO}/blob/main/`) ? link.slice(`${REPO}/blob/main/`.length) : null;
        if (/^[a-z]+:/.test(link) && repo === null) continue; // another site
        if (page === 'README.md' && repo === null && !link.startsWith('#')) bad.push(`${page}: relative link ${link}`);
        const [file, anchor] = (repo ?? link).split('#') as [string, string | undefined];
        const target = repo !== null ? file : file === '' ? page : join(page, '..', file);
        if (!existsSync(join(root, target))) bad.push(`${page}: ${link} names no file`);
        else if (anchor !== undefined && target.endsWith('.md') && !anchors(target).has(anchor)) bad.push(`${page}: ${link} names no heading`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the README contents list links every section', () => {
    const readme = text('README.md');
    const contents = readme.slice(0, readme.indexOf('\n## '));
    const sections = [...readme.matchAll(/^## (.*)$/gm)].map((m) => m[1] as string).filter((h) => h !== 'License');
    const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');
    expect(sections.filter((h) => !contents.includes(`](#${slug(h)})`))).toEqual([]);
  });

  it('package.json names the repository, the home page and where to report bugs, and ships docs/', () => {
    expect(pkg.repository).toEqual({ type: 'git', url: `git+${REPO}.git` });
    expect(pkg.homepage).toBe(`${REPO}#readme`);
    expect(pkg.bugs).toEqual({ url: `${REPO}/issues` });
    expect(pkg.files).toContain('docs');
  });
});
