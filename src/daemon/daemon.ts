import { Mutex } from 'async-mutex';
import type { ProcessOutput, ProcessResourceType } from '../builtins/process.js';
import { isConfigFileError } from '../config/file.js';
import { type OpenedConfig, openConfig } from '../config/open.js';
import { reasonOf } from '../errors.js';
import type { ResourceMonitor } from '../monitor.js';
import type { DependencyItem, ResourceSpec } from '../types.js';
import { type ClusterControl, type ControlTarget, type ReloadReport, ReloadRejected } from './api.js';
import { LogFiles } from './logs.js';

/** JSON with sorted keys: equal values give equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/**
 * The state of a `resmon run` around its monitor: the config as applied, the log files, why
 * each resource last changed state, and the lock that makes control actions and reloads run
 * one at a time (async-mutex). It is the {@link ControlTarget} of the control API.
 */
export class Daemon implements ControlTarget {
  readonly monitor: ResourceMonitor;
  readonly processType: ProcessResourceType;
  readonly logs: LogFiles;
  readonly startedAt = Date.now();
  private readonly mutex = new Mutex();
  private readonly notes = new Map<string, { reason?: string; progress?: string | undefined }>();
  private applied: OpenedConfig;
  /**
   * With `cluster:` in the config: the member, whose `status()` (units, owners, tokens) `GET /v1/status`
   * reports as `cluster`, and which online/offline/terminate/restart go through.
   */
  cluster: (ClusterControl & { status(): unknown }) | null = null;

  /** The config has `cluster:` (a ClusterMember brings the resources online). */
  get clustered(): boolean {
    return this.applied.cluster !== null;
  }
  private specs: Map<string, ResourceSpec>;
  private stopping: (() => void) | null = null;

  constructor(
    readonly file: string,
    opened: OpenedConfig,
    logs: LogFiles,
    /** The control socket's path (for `info`). */
    readonly socket: string,
  ) {
    this.monitor = opened.monitor;
    this.processType = opened.processType;
    this.logs = logs;
    this.applied = opened;
    this.specs = new Map(opened.specs);
    this.monitor.on('stateChange', (e) => {
      this.notes.set(e.resource, { reason: e.reason });
    });
    this.monitor.on('progress', (e) => {
      const note = this.notes.get(e.resource) ?? {};
      note.progress = e.message;
      this.notes.set(e.resource, note);
    });
  }

  /** Called by `POST /v1/shutdown`. */
  onShutdown(listener: () => void): void {
    this.stopping = listener;
  }

  info(): Record<string, unknown> {
    const info: Record<string, unknown> = { file: this.file, pid: process.pid, startedAt: this.startedAt, socket: this.socket, logs: this.logs.settings.dir };
    if (this.cluster) info.cluster = this.cluster.status();
    return info;
  }

  serialize<T>(action: () => Promise<T>): Promise<T> {
    return this.mutex.runExclusive(action);
  }

  note(name: string): { reason?: string | undefined; progress?: string | undefined } | undefined {
    const note = this.notes.get(name);
    if (!note) return undefined;
    let state: string;
    try {
      state = this.monitor.getState(name);
    } catch {
      return note;
    }
    return { reason: note.reason, progress: state.endsWith('-pending') ? note.progress : undefined };
  }

  processOf(name: string): ProcessOutput | null {
    return this.specs.get(name)?.type === this.processType.name ? this.processType.output(name) : null;
  }

  shutdown(): void {
    this.stopping?.();
  }

  /** The resources as the file named them, in order. */
  names(): string[] {
    return [...this.specs.keys()];
  }

  /**
   * Reloads the config file. The whole new file is validated first (as `resmon validate`
   * does); with any error nothing changes and {@link ReloadRejected} lists them. Otherwise:
   * new resources are added (dependencies first); kept resources whose `dependsOn` changed get
   * it through `setDependencies`; removed resources go offline and are removed (dependents
   * first); a resource whose type or group changed is removed and added again; changed properties go through `setProperties` (and the resource is restarted,
   * offline then online, only when the type answers `'stored'` while it runs); a changed
   * policy goes through `setPolicy` (live); new resources are brought online; resources the file leaves as they were are not touched. A change of `defaults`, `types`,
   * `control` or `logs` needs a new `resmon run` and is reported as not applied. Runs under the
   * same lock as the control actions.
   */
  reload(): Promise<ReloadReport> {
    return this.serialize(() => this.reloadNow());
  }

  private async reloadNow(): Promise<ReloadReport> {
    let next: OpenedConfig;
    try {
      next = await openConfig(this.file, { mode: 'validate' });
    } catch (error) {
      if (isConfigFileError(error)) {
        const n = error.errors.length;
        throw new ReloadRejected(`${this.file}: ${n} error${n === 1 ? '' : 's'}; nothing was changed`, error.errors.map((e) => e.message));
      }
      throw error;
    }
    await next.monitor.close();
    const monitor = this.monitor;
    const report: ReloadReport = { ok: true, added: [], removed: [], changed: [], unchanged: [], failed: [] };
    const fail = (name: string, action: string, error: unknown) => report.failed.push({ name, action, reason: typeof error === 'string' ? error : reasonOf(error) });
    const old = this.applied;
    const restartNeeded = (what: string, changed: boolean) => {
      if (changed) fail(what, 'reload', `a change of \`${what}\` takes effect at the next resmon run (not applied)`);
    };
    restartNeeded('defaults', stableJson(next.fileDefaults) !== stableJson(old.fileDefaults));
    restartNeeded('types', stableJson(next.types) !== stableJson(old.types));
    restartNeeded('control', next.controlSocket !== old.controlSocket);
    restartNeeded('logs', stableJson(next.logs) !== stableJson(old.logs));
    // The cluster member was made from the first file's cluster: section.
    restartNeeded('cluster', stableJson(next.cluster) !== stableJson(old.cluster));

    const add = async (spec: ResourceSpec) => {
      monitor.addResource(spec);
      this.specs.set(spec.name, spec);
    };
    const remove = async (name: string) => {
      await monitor.offline(name);
      await monitor.removeResource(name);
      this.specs.delete(name);
      this.notes.delete(name);
    };

    const depsOf = (spec: ResourceSpec | undefined): string[] =>
      (spec?.dependsOn ?? []).flatMap((item: DependencyItem) => (typeof item === 'string' ? [item] : item.anyOf));
    const toStart: string[] = [];
    const replaced = new Set<string>();
    for (const [name, spec] of next.specs) {
      const current = this.specs.get(name);
      // A new type or group cannot change in place: the resource is removed and added again.
      if (current && (current.type !== spec.type || (current.group ?? null) !== (spec.group ?? null))) replaced.add(name);
    }

    // 1. Removed (and replaced) resources, dependents first: a round removes those nothing left depends on.
    let doomed = [...this.specs.keys()].filter((name) => !next.specs.has(name) || replaced.has(name));
    // Kept resources that stop depending on a doomed one get their new dependencies first.
    for (const [name, spec] of next.specs) {
      const current = this.specs.get(name);
      if (!current || replaced.has(name) || stableJson(current.dependsOn ?? []) === stableJson(spec.dependsOn ?? [])) continue;
      if (depsOf(spec).some((d) => !this.specs.has(d) || replaced.has(d))) continue; // needs a new resource: after the additions
      try {
        await monitor.setDependencies(name, spec.dependsOn ?? []);
        this.specs.set(name, { ...this.specs.get(name)!, dependsOn: spec.dependsOn ?? [] });
      } catch (error) {
        fail(name, 'dependsOn', error);
      }
    }
    while (doomed.length > 0) {
      const round = doomed.filter((name) => ![...this.specs.entries()].some(([other, spec]) => other !== name && depsOf(spec).includes(name)));
      if (round.length === 0) {
        for (const name of doomed) fail(name, 'remove', 'other resources still depend on it');
        break;
      }
      for (const name of round) {
        try {
          await remove(name);
          if (!replaced.has(name)) report.removed.push(name);
        } catch (error) {
          fail(name, 'remove', error);
        }
      }
      doomed = doomed.filter((name) => !round.includes(name));
    }

    // 2. New (and replaced) resources, dependencies first.
    let pending = [...next.specs.keys()].filter((name) => !this.specs.has(name) && !report.failed.some((f) => f.name === name));
    while (pending.length > 0) {
      const round = pending.filter((name) => depsOf(next.specs.get(name)).every((d) => this.specs.has(d)));
      if (round.length === 0) {
        for (const name of pending) fail(name, 'add', 'its dependencies could not be added');
        break;
      }
      for (const name of round) {
        try {
          await add(next.specs.get(name)!);
          toStart.push(name);
          if (replaced.has(name)) report.changed.push({ name, how: ['replaced (type or group changed)'] });
          else report.added.push(name);
        } catch (error) {
          fail(name, replaced.has(name) ? 'replace' : 'add', error);
        }
      }
      pending = pending.filter((name) => !round.includes(name));
    }

    // 3. Changes in place: dependencies (those that waited for new resources), properties, policy.
    for (const [name, spec] of next.specs) {
      const current = this.specs.get(name);
      if (!current || replaced.has(name) || toStart.includes(name)) continue;
      const how: string[] = [];
      if (stableJson(current.dependsOn ?? []) !== stableJson(spec.dependsOn ?? [])) {
        try {
          await monitor.setDependencies(name, spec.dependsOn ?? []);
          this.specs.set(name, { ...this.specs.get(name)!, dependsOn: spec.dependsOn ?? [] });
          how.push('dependsOn: applied');
        } catch (error) {
          fail(name, 'dependsOn', error);
        }
      } else if (stableJson(old.specs.get(name)?.dependsOn ?? []) !== stableJson(spec.dependsOn ?? [])) {
        how.push('dependsOn: applied');
      }
      if (stableJson(current.properties ?? {}) !== stableJson(spec.properties ?? {})) {
        try {
          const outcome = await monitor.setProperties(name, spec.properties ?? {});
          this.specs.set(name, { ...this.specs.get(name)!, ...(spec.properties !== undefined ? { properties: spec.properties } : {}) });
          const state = monitor.getState(name);
          if (outcome === 'stored' && (state === 'online' || state === 'online-pending')) {
            await monitor.offline(name);
            await monitor.online(name);
            how.push('properties: restarted');
          } else {
            how.push(`properties: ${outcome}`);
          }
        } catch (error) {
          fail(name, 'properties', error);
        }
      }
      if (stableJson(current.policy ?? {}) !== stableJson(spec.policy ?? {})) {
        try {
          const fields: Record<string, unknown> = {};
          for (const key of Object.keys(current.policy ?? {})) fields[key] = undefined;
          Object.assign(fields, spec.policy ?? {});
          await monitor.setPolicy(name, fields);
          const now = this.specs.get(name)!;
          const { policy: _old, ...rest } = now;
          this.specs.set(name, spec.policy !== undefined ? { ...rest, policy: spec.policy } : rest);
          how.push('policy: applied');
        } catch (error) {
          fail(name, 'policy', error);
        }
      }
      if (how.length > 0) report.changed.push({ name, how });
      else if (!report.failed.some((f) => f.name === name)) report.unchanged.push(name);
    }
    // Keep the file's order for the next reload's comparisons.
    this.specs = new Map([...next.specs.keys()].filter((n) => this.specs.has(n)).map((n) => [n, this.specs.get(n)!]));
    // cluster: the member brings new units online where it wins their leases, at its next round.
    const results = this.clustered ? [] : await Promise.allSettled(toStart.map((name) => monitor.online(name)));
    results.forEach((result, i) => {
      if (result.status === 'rejected') fail(toStart[i] as string, 'online', result.reason);
    });
    // defaults, types, control and logs stay as the run started with them (they were not applied).
    this.applied = { ...old, specs: new Map(this.specs) };
    report.ok = report.failed.length === 0;
    return report;
  }
}
