import { ConfigError, DependencyError, isConfigError, reasonOf } from './errors.js';
import type { DependencyItem } from './types.js';

/**
 * One item of a `dependsOn`, normalised: the names of which at least one must be online (a plain
 * name is a clause of one).
 */
export type Clause = readonly string[];

/** A checked `dependsOn`: as given (for `inspect()`) and as clauses (for the monitor). */
export interface Dependencies {
  readonly given: DependencyItem[];
  readonly clauses: readonly Clause[];
}

export const NO_DEPENDENCIES: Dependencies = Object.freeze({ given: [], clauses: [] }) as Dependencies;

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Checks the shape of a `dependsOn` value (an array of names and `{ anyOf: [names] }`) and
 * normalises it. Throws `ConfigError` naming the item (`dependsOn[1].anyOf[0]`) and the rule.
 * Whether the names exist is the graph's business ({@link DependencyGraph.check}).
 */
export function parseDependsOn(value: unknown, context: string): Dependencies {
  try {
    return parse(value, context);
  } catch (error) {
    if (isConfigError(error)) throw error;
    // A hostile value (a throwing getter, a revoked Proxy): say so, never pass its throw on.
    throw new ConfigError('dependsOn', undefined, `could not be read: ${reasonOf(error)}`, { context, cause: error });
  }
}

function parse(value: unknown, context: string): Dependencies {
  if (value === undefined) return NO_DEPENDENCIES;
  const rule = "must be a list of resource names and { anyOf: [names] } items, e.g. ['db', { anyOf: ['ip-a', 'ip-b'] }]";
  if (!Array.isArray(value)) throw new ConfigError('dependsOn', value, rule, { context });
  const given: DependencyItem[] = [];
  const clauses: Clause[] = [];
  value.forEach((item: unknown, i) => {
    if (isName(item)) {
      given.push(item);
      clauses.push([item]);
      return;
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new ConfigError(`dependsOn[${i}]`, item, 'must be a resource name (a non-empty string) or { anyOf: [names] }', { context });
    }
    const extra = Object.keys(item).find((k) => k !== 'anyOf');
    if (extra !== undefined) {
      throw new ConfigError(`dependsOn[${i}].${extra}`, (item as Record<string, unknown>)[extra], 'is not a field of a dependency item (known: anyOf)', { context });
    }
    const anyOf = (item as { anyOf?: unknown }).anyOf;
    if (!Array.isArray(anyOf) || anyOf.length === 0) {
      throw new ConfigError(`dependsOn[${i}].anyOf`, anyOf, 'must be a non-empty list of resource names', { context });
    }
    anyOf.forEach((name: unknown, j) => {
      if (!isName(name)) throw new ConfigError(`dependsOn[${i}].anyOf[${j}]`, name, 'must be a resource name (a non-empty string)', { context });
    });
    const names = [...new Set(anyOf as string[])];
    given.push({ anyOf: [...(anyOf as string[])] });
    clauses.push(names);
  });
  return { given, clauses };
}

/** Every name a set of clauses mentions, once each, in order. */
export function namesOf(clauses: readonly Clause[]): string[] {
  const out = new Set<string>();
  for (const clause of clauses) for (const name of clause) out.add(name);
  return [...out];
}

/** The checks of {@link DependencyGraph.check}, reported instead of thrown (for a config file). */
export type DependencyProblem =
  | { kind: 'unknown'; name: string }
  | { kind: 'group'; name: string; group: string | null; theirs: string | null }
  | { kind: 'cycle'; name: string; cycle: string[] };

interface Node {
  group: string | null;
  deps: Dependencies;
}

/**
 * The dependency graph of a monitor's resources: who depends on whom, in which group. Pure
 * bookkeeping (no states): the checks that keep it acyclic and within groups, and the edges in
 * both directions so that walking dependents or dependencies costs O(edges).
 */
export class DependencyGraph {
  private readonly nodes = new Map<string, Node>();
  /** name -> the resources whose dependsOn mentions it. */
  private readonly dependents = new Map<string, Set<string>>();
  /** group -> its members, in the order they were added. */
  private readonly groups = new Map<string, Set<string>>();

  has(name: string): boolean {
    return this.nodes.has(name);
  }

  /**
   * What is wrong with `name` (in `group`) depending on `deps`, checked against the graph as it
   * is (with `name`'s own current dependencies replaced): unknown names, names in another group,
   * a cycle. The first problem of each name, in order; empty when all is well.
   */
  problems(name: string, group: string | null, deps: Dependencies, known: (n: string) => boolean = (n) => this.nodes.has(n)): DependencyProblem[] {
    const out: DependencyProblem[] = [];
    for (const dep of namesOf(deps.clauses)) {
      if (dep === name) {
        out.push({ kind: 'cycle', name: dep, cycle: [name, name] });
        continue;
      }
      if (!known(dep)) {
        out.push({ kind: 'unknown', name: dep });
        continue;
      }
      const theirs = this.nodes.get(dep)?.group ?? null;
      if (this.nodes.has(dep) && theirs !== group) {
        out.push({ kind: 'group', name: dep, group, theirs });
        continue;
      }
      // A resource not in the graph yet has no dependents: it cannot close a cycle.
      const path = this.nodes.has(name) ? this.pathTo(dep, name) : null;
      if (path) out.push({ kind: 'cycle', name: dep, cycle: [name, ...path] });
    }
    return out;
  }

  /**
   * Throws `DependencyError` for the first problem of `name` depending on `deps` (see
   * {@link problems}); the graph is not changed.
   */
  check(name: string, group: string | null, deps: Dependencies, known?: (n: string) => boolean): void {
    const [problem] = this.problems(name, group, deps, known);
    if (problem) throw new DependencyError(name, describeProblem(problem));
  }

  /** Adds a resource (its dependencies must have passed {@link check}). */
  add(name: string, group: string | null, deps: Dependencies): void {
    this.nodes.set(name, { group, deps });
    this.link(name, deps);
    if (group !== null) {
      let members = this.groups.get(group);
      if (!members) this.groups.set(group, (members = new Set()));
      members.add(name);
    }
  }

  /** Replaces a resource's dependencies (they must have passed {@link check}). */
  set(name: string, deps: Dependencies): void {
    const node = this.nodes.get(name);
    if (!node) return;
    this.unlink(name, node.deps);
    node.deps = deps;
    this.link(name, deps);
  }

  /** Forgets a resource (nothing may depend on it any more: see {@link dependentsOf}). */
  remove(name: string): void {
    const node = this.nodes.get(name);
    if (!node) return;
    this.unlink(name, node.deps);
    this.nodes.delete(name);
    this.dependents.delete(name);
    if (node.group !== null) {
      const members = this.groups.get(node.group);
      members?.delete(name);
      if (members?.size === 0) this.groups.delete(node.group);
    }
  }

  groupOf(name: string): string | null {
    return this.nodes.get(name)?.group ?? null;
  }

  dependenciesOf(name: string): Dependencies {
    return this.nodes.get(name)?.deps ?? NO_DEPENDENCIES;
  }

  /** The resources whose `dependsOn` names `name` directly. */
  dependentsOf(name: string): ReadonlySet<string> {
    return this.dependents.get(name) ?? EMPTY;
  }

  /** The members of a group, in the order they were added; undefined for a group with none. */
  membersOf(group: string): ReadonlySet<string> | undefined {
    return this.groups.get(group);
  }

  /** The groups that have members, in the order their first member was added. */
  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** The clauses of `name` that no member satisfies (`up` says whether a resource counts as online). */
  unmet(name: string, up: (n: string) => boolean): Clause[] {
    const out: Clause[] = [];
    for (const clause of this.dependenciesOf(name).clauses) if (!clause.some(up)) out.push(clause);
    return out;
  }

  /** Whether every clause of `name` has a member for which `up` holds. */
  satisfied(name: string, up: (n: string) => boolean): boolean {
    for (const clause of this.dependenciesOf(name).clauses) if (!clause.some(up)) return false;
    return true;
  }

  /** A path of dependencies from `from` to `to` (`[from, ..., to]`), or null. Depth-first, iterative. */
  private pathTo(from: string, to: string): string[] | null {
    const parent = new Map<string, string | null>([[from, null]]);
    const stack = [from];
    while (stack.length > 0) {
      const at = stack.pop() as string;
      if (at === to) {
        const path: string[] = [];
        for (let n: string | null = at; n !== null; n = parent.get(n) ?? null) path.push(n);
        return path.reverse();
      }
      for (const next of namesOf(this.dependenciesOf(at).clauses)) {
        if (parent.has(next)) continue;
        parent.set(next, at);
        stack.push(next);
      }
    }
    return null;
  }

  private link(name: string, deps: Dependencies): void {
    for (const dep of namesOf(deps.clauses)) {
      let set = this.dependents.get(dep);
      if (!set) this.dependents.set(dep, (set = new Set()));
      set.add(name);
    }
  }

  private unlink(name: string, deps: Dependencies): void {
    for (const dep of namesOf(deps.clauses)) this.dependents.get(dep)?.delete(name);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/** A problem in words (after `resource "x": `). */
export function describeProblem(problem: DependencyProblem): string {
  switch (problem.kind) {
    case 'unknown':
      return `dependsOn names "${problem.name}", which is not a resource of this monitor; add it first (dependencies must exist before their dependents)`;
    case 'group':
      return `cannot depend on "${problem.name}": it is ${problem.theirs === null ? 'ungrouped' : `in group "${problem.theirs}"`} and this resource is ${problem.group === null ? 'ungrouped' : `in group "${problem.group}"`}; a resource and its dependencies must be in the same group (or all ungrouped)`;
    case 'cycle':
      return `dependsOn would make a cycle: ${problem.cycle.join(' -> ')}`;
  }
}

/**
 * `names` ordered so that every resource comes after all of its dependents (the order to take
 * them down in); dependents outside `names` are walked too. Iterative, so chains of any length
 * are fine.
 */
export function topDown(graph: DependencyGraph, names: Iterable<string>): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const onPath = new Set<string>();
  for (const root of names) {
    if (done.has(root)) continue;
    const stack: { name: string; next: Iterator<string> }[] = [{ name: root, next: graph.dependentsOf(root)[Symbol.iterator]() }];
    onPath.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { name: string; next: Iterator<string> };
      const step = top.next.next();
      if (step.done) {
        stack.pop();
        onPath.delete(top.name);
        done.add(top.name);
        out.push(top.name);
        continue;
      }
      const child = step.value;
      if (done.has(child) || onPath.has(child)) continue;
      onPath.add(child);
      stack.push({ name: child, next: graph.dependentsOf(child)[Symbol.iterator]() });
    }
  }
  return out;
}
