import { DependencyError, isDependencyError, reasonOf, StateError, UnknownResourceError } from './errors.js';
import type { Clause, DependencyGraph } from './graph.js';
import type { Logger } from './logger.js';
import type { Resource } from './resource.js';
import type { ResourceState } from './types.js';

/** What the orchestrator needs from its monitor. */
export interface OrchestratorEnv {
  readonly graph: DependencyGraph;
  readonly logger: Logger;
  /** The resource of that name, unless it is gone or being removed. */
  resource(name: string): Resource | undefined;
  /** The removal in progress of that resource, if it is being removed. */
  removal(name: string): Promise<void> | undefined;
  /** The monitor is closing: no more following or bringing back. */
  closing(): boolean;
  /** An operation on `name` started or ended (see {@link Orchestrator.busy}). */
  busyChanged(name: string): void;
}

/** How many times online() brings dependencies up again when they went down meanwhile. */
const ROUNDS = 3;

/**
 * Dependencies in motion (DESIGN §9): brings a resource's dependencies online before it (each at
 * most once, independent branches in parallel), takes its dependents offline before it
 * (top-down), takes the dependents of a failed dependency offline (keeping their target), and
 * brings them back once their dependencies are online again. The resources' own state machines
 * do the rest; this only decides the order.
 */
export class Orchestrator {
  /** online() in progress (the dependencies' phase included), shared by concurrent callers. */
  private readonly starting = new Map<string, { task: Promise<void>; began: number }>();
  /** The online() in progress of these resources has handed over to the resource's own online(). */
  private readonly committed = new Set<string>();
  /** offline()/terminate() in progress (the dependents' phase included). */
  private readonly stopping = new Map<string, Promise<void>>();
  /** A counter that orders online() operations and the moments targets were set to offline. */
  private clock = 0;
  /** When each resource's target was last set to offline (by offline()/terminate(), directly or through a dependency). */
  private readonly offlineAt = new Map<string, number>();

  constructor(private readonly env: OrchestratorEnv) {}

  /** Whether `name` counts as online for its dependents: online, and not being taken down. */
  readonly up = (name: string): boolean => this.env.resource(name)?.state === 'online' && !this.stopping.has(name);

  /** Whether an online(), offline() or terminate() of `name` is running (its dependencies' or dependents' phase included). */
  busy(name: string): boolean {
    return this.starting.has(name) || this.stopping.has(name);
  }

  /**
   * Brings `name` online: its unmet dependencies first, then itself. Sets its target to online.
   * Concurrent calls share one operation. `began`: when the dependent's online() that asks for
   * this one began (an offline() asked after that wins).
   */
  online(name: string, began?: number): Promise<void> {
    const resource = this.must(name);
    resource.target = 'online';
    const running = this.starting.get(name);
    // Share the online() in progress, unless it has handed over to the resource and the resource
    // is failed or offline now: then that online may have ended already (the resource went online
    // and failed since, in the microtasks before the task resolves), and joining it would resolve
    // on a resource that is not online. The resource's own online() shares an attempt anyway.
    const over = this.committed.has(name) && (resource.state === 'failed' || resource.state === 'offline');
    // Nor when an offline()/terminate() came after it began: then this one starts after it.
    const superseded = running !== undefined && (this.offlineAt.get(name) ?? 0) > running.began;
    if (running && !over && !superseded) return running.task;
    // A dependency brought up for a dependent's online() counts from when that began.
    const stamp = began ?? ++this.clock;
    const run = () => this.runOnline(name, resource, stamp, began !== undefined);
    const task = running && superseded ? running.task.catch(() => {}).then(run) : run();
    const entry = { task, began: stamp };
    task
      .finally(() => {
        if (this.starting.get(name) === entry) {
          this.starting.delete(name);
          this.committed.delete(name);
        }
        this.env.busyChanged(name);
      })
      .catch((error: unknown) => {
        // A dependency that could not come online may be online by now: if so, come online.
        if (isDependencyError(error)) queueMicrotask(() => this.reconsider(name));
      });
    this.committed.delete(name);
    this.starting.set(name, entry);
    this.env.busyChanged(name);
    return task;
  }

  /**
   * `forDependent`: brought up for a dependent's online(). An offline()/terminate() of it asked
   * after that began wins, as it does once this waited for its own dependencies (the phase
   * before online-pending). Otherwise the resource's own rules apply (an online() waiting for a
   * transition starts a new attempt after it).
   */
  private async runOnline(name: string, resource: Resource, began: number, forDependent: boolean): Promise<void> {
    let waited = forDependent;
    await null; // keeps the walk down a long chain off the stack
    for (let round = 0; ; round++) {
      const stopping = this.stopping.get(name);
      if (stopping) {
        // An offline() or terminate() asked before this online(): let it finish, then start anew.
        await stopping;
        continue;
      }
      if (waited && (this.offlineAt.get(name) ?? 0) > began) {
        // offline() or terminate() was called while its dependencies were coming online: that later request wins.
        throw new StateError(name, 'the online attempt was abandoned: offline() or terminate() was called while its dependencies were coming online');
      }
      let depsWent = false;
      const mayStart = () => {
        if (waited && (this.offlineAt.get(name) ?? 0) > began) return 'offline() or terminate() was called since';
        if (this.env.closing()) return 'the monitor is closing';
        if (this.env.graph.satisfied(name, this.up)) return null;
        depsWent = true;
        return 'its dependencies are not all online';
      };
      if (resource.state === 'online' || resource.state === 'online-pending') {
        this.committed.add(name);
        return resource.online(mayStart);
      }
      const unmet = this.env.graph.unmet(name, this.up);
      if (unmet.length === 0) {
        this.committed.add(name);
        try {
          return await resource.online(mayStart);
        } catch (error) {
          if (!depsWent) throw error;
          continue; // a dependency went down while it waited: bring it up again (counts as a round)
        }
      }
      if (round >= ROUNDS) {
        throw new DependencyError(
          name,
          `its dependencies went offline again while it was being brought online (${round} times; unmet: ${unmet.map(describeClause).join(', ')}); it was not started`,
        );
      }
      waited = true;
      await Promise.all(unmet.map((clause) => this.bring(name, clause, began)));
    }
  }

  /** Brings one clause of `dependent`'s dependencies online; rejects with DependencyError. */
  private async bring(dependent: string, clause: Clause, began: number): Promise<void> {
    const errors: [string, unknown][] = [];
    // Members already on their way first, then in the order given.
    const rank = (n: string) => (this.up(n) ? 0 : this.starting.has(n) || this.env.resource(n)?.state === 'online-pending' ? 1 : 2);
    const order = clause.length === 1 ? clause : [...clause].sort((a, b) => rank(a) - rank(b));
    for (const dep of order) {
      if (this.up(dep)) return;
      if (this.stopping.has(dep) || (this.offlineAt.get(dep) ?? 0) > began) {
        // Taken offline after this online() began: that later request wins.
        errors.push([dep, new StateError(dep, 'it is being taken offline, or was after this online() began')]);
        continue;
      }
      try {
        await this.online(dep, began);
        return;
      } catch (error) {
        errors.push([dep, error]);
      }
    }
    const [first] = errors as [[string, unknown]];
    if (clause.length === 1) {
      throw new DependencyError(dependent, `dependency "${first[0]}" could not come online (${reasonOf(first[1])}); it was not started`, {
        cause: first[1],
      });
    }
    const why = errors.map(([dep, error]) => `"${dep}": ${reasonOf(error)}`).join('; ');
    throw new DependencyError(dependent, `no member of ${describeClause(clause)} could come online (${why}); it was not started`, {
      cause: first[1],
    });
  }

  /**
   * Takes `name` offline (or terminates it), its dependents first (top-down, independent
   * branches in parallel). `asked`: an offline()/terminate() call (the target of `name` and of
   * each dependent taken down becomes offline); otherwise a dependency's failure (targets stay).
   * `byOfflineCall`: `monitor.offline(name)` itself (see `Resource.offline`; not its dependents).
   */
  stop(name: string, how: 'offline' | 'terminate', reason: string, asked: boolean, cascaded = false, byOfflineCall = false): Promise<void> {
    const resource = this.must(name);
    if (asked) {
      resource.target = 'offline';
      this.offlineAt.set(name, ++this.clock);
    }
    let release!: () => void;
    const task = new Promise<void>((resolve) => (release = resolve));
    const previous = this.stopping.get(name);
    const mark = previous ? Promise.all([previous, task]).then(() => {}) : task;
    this.stopping.set(name, mark);
    void mark.then(() => {
      if (this.stopping.get(name) === mark) this.stopping.delete(name);
      this.env.busyChanged(name);
      // Taken down for a dependency: if that dependency is back already, come back too.
      if (!asked) this.reconsider(name);
      // Left up (its dependency healed first): bring back the dependents that went down before it.
      if (!asked && resource.state === 'online') this.bringBack(name);
    });
    this.env.busyChanged(name);
    const run = async () => {
      await null; // keeps the walk up a long chain off the stack
      const why = asked ? `dependency "${name}" ${how === 'terminate' ? 'is being terminated' : 'is going offline'}` : reason;
      // Again after each wave: a dependent that needed it only once another member of its anyOf
      // went down meanwhile goes first too.
      for (let wave = 0; wave < 10; wave++) {
        const downs: Promise<void>[] = [];
        for (const dependent of this.env.graph.dependentsOf(name)) {
          const d = this.env.resource(dependent);
          if (!d) {
            // Being removed: it goes first all the same.
            const removal = this.env.removal(dependent);
            if (removal) downs.push(removal.catch(() => {}));
            continue;
          }
          if (this.env.graph.satisfied(dependent, this.up)) continue;
          if (asked ? d.state === 'offline' && d.target === 'offline' : !live(d) && d.state !== 'offline-pending') {
            // Not up, but maybe on its way down already (another take-down): wait for that.
            const going = this.stopping.get(dependent);
            if (going) downs.push(going);
            continue;
          }
          downs.push(this.stop(dependent, how, why, asked, true));
        }
        if (downs.length === 0) break;
        await Promise.all(downs);
      }
      // A dependency's failure that has healed while the dependents went down (the failed
      // dependency is online again) takes down nothing that is up: no spurious bounce.
      if (!asked && live(resource) && this.env.graph.satisfied(name, this.up)) return;
      if (how === 'offline') await resource.offline(reason, byOfflineCall);
      // A dependent that is offline already only has its target changed: nothing to terminate.
      else if (!cascaded || resource.state !== 'offline') await resource.terminate(reason);
    };
    return run().finally(release);
  }

  /**
   * A restart of `resource` is due: allowed while its dependencies are online. Otherwise it is
   * taken offline (keeping its target) and comes back with them.
   */
  mayRestart(resource: Resource): boolean {
    if (this.env.graph.satisfied(resource.name, this.up)) return true;
    queueMicrotask(() => {
      if (resource.state !== 'failed' || this.stopping.has(resource.name)) return;
      this.stop(resource.name, 'offline', 'its dependencies are not online', false).catch(() => {});
    });
    return false;
  }

  /** A resource changed state (`from` is the state it left): follow it. */
  observe(resource: Resource, from: ResourceState): void {
    const to = resource.state;
    if (from === to || this.env.closing()) return;
    // At once (online() goes no further than its bookkeeping before its first await), so the
    // dependents count as on their way up from the same moment.
    if (to === 'online') this.bringBack(resource.name);
    else if (from === 'online' || from === 'online-pending') {
      const reason = to === 'failed' ? `dependency "${resource.name}" failed` : `dependency "${resource.name}" went offline`;
      queueMicrotask(() => this.follow(resource.name, reason));
    }
  }

  /** `name` left online: take its dependents that now lack a dependency offline, keeping their target. */
  private follow(name: string, reason: string): void {
    if (this.env.closing()) return;
    for (const dependent of this.env.graph.dependentsOf(name)) {
      const d = this.env.resource(dependent);
      if (!d || !live(d) || this.env.graph.satisfied(dependent, this.up)) continue;
      this.stop(dependent, 'offline', reason, false).catch((error: unknown) => {
        this.env.logger.warn({ resource: dependent, err: error }, `taking it offline after ${reason} failed: ${reasonOf(error)}`);
      });
    }
  }

  /** `name` came online: bring back its dependents whose target is online and whose dependencies are all online now. */
  private bringBack(name: string): void {
    if (this.env.closing()) return;
    for (const dependent of this.env.graph.dependentsOf(name)) {
      const d = this.env.resource(dependent);
      if (!d || d.target !== 'online' || d.state !== 'offline' || this.starting.has(dependent) || this.stopping.has(dependent)) continue;
      if (!this.env.graph.satisfied(dependent, this.up)) continue;
      this.online(dependent).catch((error: unknown) => {
        this.env.logger.debug({ resource: dependent }, `bringing it back online failed: ${reasonOf(error)}`);
      });
    }
  }

  /** Brings `name` back if its target is online, it is offline and its dependencies are online (after setDependencies). */
  reconsider(name: string): void {
    const d = this.env.resource(name);
    if (!d || this.env.closing() || d.target !== 'online' || d.state !== 'offline' || this.starting.has(name) || this.stopping.has(name)) return;
    if (!this.env.graph.satisfied(name, this.up)) return;
    this.online(name).catch((error: unknown) => {
      this.env.logger.debug({ resource: name }, `bringing it back online failed: ${reasonOf(error)}`);
    });
  }

  private must(name: string): Resource {
    const resource = this.env.resource(name);
    if (!resource) throw new UnknownResourceError(name);
    return resource;
  }
}

/** Up, or on its way up (a restart coming): what a dependency's failure takes down. */
function live(r: Resource): boolean {
  return r.state === 'online' || r.state === 'online-pending' || r.awaitingRestart;
}

function describeClause(clause: Clause): string {
  return clause.length === 1 ? `"${clause[0]}"` : `anyOf [${clause.map((n) => `"${n}"`).join(', ')}]`;
}
