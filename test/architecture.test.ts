import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src', import.meta.url));

/** Every .ts file under src/, as a path relative to it. */
function sources(dir = src): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [relative(src, path)] : [];
  });
}

/** The src/ files a file imports: static, type-only, re-exports and dynamic `import()`. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"`;]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] as string);
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(src, resolve(dirname(join(src, file)), s)).replace(/\.js$/, '.ts'));
}

const graph = new Map(sources().map((file) => [file, importsOf(file)]));

describe('the layout of src/', () => {
  it('finds the files and their imports (the checks below are not vacuous)', () => {
    expect(graph.get('monitor.ts')).toContain('resource.ts');
    expect(graph.get('cli/main.ts')).toContain('cli/run.ts');
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('keeps hosts/ a leaf: it never imports the monitor, the resource or the CLI', () => {
    const upward = [...graph]
      .filter(([file]) => file.startsWith('hosts/'))
      .flatMap(([file, imports]) => imports.filter((i) => ['monitor.ts', 'resource.ts', 'call.ts'].includes(i) || i.startsWith('cli/')).map((i) => `${file} -> ${i}`));
    expect(upward).toEqual([]);
  });

  it('keeps src/index.ts and src/testing/index.ts barrels that only re-export', () => {
    for (const barrel of ['index.ts', 'testing/index.ts']) {
      const code = readFileSync(join(src, barrel), 'utf8')
        .replace(/\/\/.*$/gm, '')
        .replace(/\/\*[\s\S]*?\*\//g, '');
      const statements = code.split(';').map((s) => s.trim()).filter(Boolean);
      expect(statements.filter((s) => !s.startsWith('export ')), barrel).toEqual([]);
      expect(statements.filter((s) => !/\bfrom\s+['"]/.test(s)), barrel).toEqual([]);
    }
  });
});

describe("the README's Architecture section", () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const start = readme.indexOf('\n## Architecture');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

  it('names every file at the top of src/ and every folder, so a reader finds each concept', () => {
    expect(start).toBeGreaterThan(0);
    const top = readdirSync(src, { withFileTypes: true });
    const names = top.map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).filter((n) => n.endsWith('/') || n.endsWith('.ts'));
    expect(names).toContain('resource.ts');
    const missing = names.filter((n) => !section.includes(`\`${n}\``));
    expect(missing, 'src/ entries the Architecture section does not name').toEqual([]);
  });
});
