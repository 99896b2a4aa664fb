import type { ConfigError } from '../errors.js';
import type { DependencyItem } from '../types.js';
import type { ConfigPath, ParsedFile } from './file.js';
import type { ConfigResourceEntry, Indexed } from './shape.js';

/** What {@link checkDependencies} found. */
export interface CheckedDependencies {
  /** The entries in an order where each comes after its dependencies (file order otherwise). */
  order: Indexed<ConfigResourceEntry>[];
  /** Entries whose `dependsOn` is wrong (unknown name, other group, cycle): add them without it. */
  broken: Set<string>;
  errors: ConfigError[];
}

interface Edge {
  to: string;
  path: ConfigPath;
}

/**
 * Checks the `group:` and `dependsOn:` of a config file's resources against each other (they
 * may be listed in any order): every name must be a resource of the file in the same group,
 * and there must be no cycle. Each problem is a ConfigError at the item that names the
 * dependency (`resources[2].dependsOn[1].anyOf[0]`), so it reads `file:line:col`.
 */
export function checkDependencies(entries: Indexed<ConfigResourceEntry>[], parsed: ParsedFile): CheckedDependencies {
  const byName = new Map(entries.map((e) => [e.entry.name, e] as const));
  const errors: ConfigError[] = [];
  const broken = new Set<string>();
  const edges = new Map<string, Edge[]>();
  for (const { index, entry } of entries) {
    const out: Edge[] = [];
    edges.set(entry.name, out);
    (entry.dependsOn ?? []).forEach((item: DependencyItem, j) => {
      const names: [string, ConfigPath][] =
        typeof item === 'string'
          ? [[item, ['resources', index, 'dependsOn', j]]]
          : item.anyOf.map((n, k) => [n, ['resources', index, 'dependsOn', j, 'anyOf', k]]);
      for (const [name, path] of names) {
        const dep = byName.get(name);
        if (!dep) {
          errors.push(parsed.error(path, name, `is not the name of a resource in this file (known: ${[...byName.keys()].join(', ')})`));
          broken.add(entry.name);
          continue;
        }
        const mine = entry.group ?? null;
        const theirs = dep.entry.group ?? null;
        if (mine !== theirs) {
          const where = (g: string | null) => (g === null ? 'ungrouped' : `in group "${g}"`);
          errors.push(
            parsed.error(path, name, `is ${where(theirs)} but "${entry.name}" is ${where(mine)}; a resource and its dependencies must be in the same group (or all ungrouped)`),
          );
          broken.add(entry.name);
          continue;
        }
        out.push({ to: name, path });
      }
    });
  }
  // Depth-first over the good edges: a back edge closes a cycle; the post-order is the order to add in.
  const order: Indexed<ConfigResourceEntry>[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const root of entries) {
    if (state.has(root.entry.name)) continue;
    const stack: { name: string; i: number }[] = [{ name: root.entry.name, i: 0 }];
    state.set(root.entry.name, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { name: string; i: number };
      const next = (edges.get(top.name) ?? [])[top.i++];
      if (!next) {
        stack.pop();
        state.set(top.name, 'done');
        order.push(byName.get(top.name) as Indexed<ConfigResourceEntry>);
        continue;
      }
      const seen = state.get(next.to);
      if (seen === 'done') continue;
      if (seen === 'open') {
        const from = stack.findIndex((s) => s.name === next.to);
        const cycle = [...stack.slice(from).map((s) => s.name), next.to];
        errors.push(parsed.error(next.path, next.to, `makes a cycle: ${cycle.join(' -> ')}; a resource cannot depend on itself, directly or through others`));
        broken.add(top.name);
        continue;
      }
      state.set(next.to, 'open');
      stack.push({ name: next.to, i: 0 });
    }
  }
  return { order, broken, errors };
}
