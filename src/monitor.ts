import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock } from './clock.js';
import {
  ConfigError,
  DependencyError,
  DuplicateError,
  MonitorClosedError,
  StateError,
  UnknownResourceError,
  UnknownTypeError,
} from './errors.js';
import type { ResourceMonitorEvents } from './events.js';
import { type Logger, silentLogger } from './logger.js';
import { type ResourcePolicy, resolvePolicy, validatePolicy } from './policy.js';
import { HostManager } from './hosts/manager.js';
import { checkSpec, type HostedTypeSpec, isHostedTypeSpec } from './hosts/spec.js';
import { loadTypeExport } from './hosts/load.js';
import { Resource, type ResourceEnv, type TypeBinding } from './resource.js';
import type { ResourceSpec, ResourceState, ResourceStatus, ResourceType } from './types.js';
import { validateResourceType } from './validate.js';
import { DependencyGraph, parseDependsOn, topDown } from './graph.js';
import { type GroupMember, groupStateOf, GroupStates, type GroupStatus } from './groups.js';
import { Orchestrator } from './orchestrator.js';
import type { DependencyItem } from './types.js';

/** Options of `new ResourceMonitor()`. All are optional. */
export interface ResourceMonitorOptions {
  /**
   * Monitor-wide policy: the last layer before the built-in defaults (a resource's own policy
   * and its type's defaults come first).
   * @default {}
   * @example { restartDelay: 1000, looksAlivePollInterval: 2000 }
   */
  defaults?: Partial<ResourcePolicy>;
  /**
   * Where time comes from. The default reads `Date.now()` and the global timers at each call,
   * so `vi.useFakeTimers()` drives the monitor exactly.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * A pino-style logger (`debug`, `info`, `warn`, `error`); entry points get it tagged with
   * the resource and the entry point as `ctx.log`.
   * @default a silent logger
   */
  logger?: Logger;
  /**
   * How long terminate (and offline after an aborted online) waits for an abandoned call to
   * settle before it runs anyway (DESIGN §5.2). Milliseconds, ≥ 0.
   * @default 1000
   */
  abortGrace?: number;
}

/** Options of `waitFor()`. */
export interface WaitForOptions {
  /** Reject with `CallTimeoutError` after this many milliseconds. */
  timeout?: number;
  /** Reject with the signal's reason when it aborts. */
  signal?: AbortSignal;
}

const OPTION_KEYS = new Set(['defaults', 'clock', 'logger', 'abortGrace']);
const RESOURCE_KEYS = ['name', 'type', 'properties', 'policy', 'group', 'dependsOn'];

/**
 * The resource monitor: registers resource types, adds resources, brings them online, polls
 * their health on two schedules, fails, terminates and restarts them by policy, and emits an
 * event for every state change (DESIGN §2).
 *
 * @example
 * ```ts
 * const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 1000 } });
 * monitor.registerType(myType);
 * monitor.addResource({ name: 'db', type: 'my-type', properties: { port: 5432 } });
 * monitor.on('stateChange', (e) => console.log(`${e.resource}: ${e.from} -> ${e.to} (${e.reason})`));
 * await monitor.online('db');
 * // ...
 * await monitor.close();
 * ```
 */
export class ResourceMonitor extends EventEmitter<ResourceMonitorEvents> {
  private readonly types = new Map<string, TypeBinding>();
  private readonly resources = new Map<string, Resource>();
  private readonly removing = new Map<string, Promise<void>>();
  private readonly defaults: Partial<ResourcePolicy>;
  private readonly env: ResourceEnv;
  private closing: Promise<void> | null = null;
  /** close() has finished. */
  private closed = false;
  /** The isolation hosts, from the first hosted registerType(). */
  private hosts: HostManager | null = null;
  /** Who depends on whom, and the groups (DESIGN §9). */
  private readonly graph = new DependencyGraph();
  private readonly groupStates = new GroupStates();
  /** Dependencies in motion: ordering of online/offline, following failures, bringing back. */
  private readonly orchestrator: Orchestrator;

  constructor(options: ResourceMonitorOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new ConfigError('options', options, 'must be an object', { context: 'new ResourceMonitor()' });
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) {
        throw new ConfigError(`options.${key}`, (options as Record<string, unknown>)[key], `is not an option (known: ${[...OPTION_KEYS].join(', ')})`, {
          context: 'new ResourceMonitor()',
        });
      }
    }
    const { clock = systemClock, logger = silentLogger, abortGrace = 1_000 } = options;
    for (const fn of ['now', 'setTimeout', 'clearTimeout'] as const) {
      if (typeof (clock as unknown as Record<string, unknown>)?.[fn] !== 'function') {
        throw new ConfigError(`options.clock.${fn}`, (clock as unknown as Record<string, unknown>)?.[fn], 'must be a function', {
          context: 'new ResourceMonitor()',
        });
      }
    }
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      if (typeof (logger as unknown as Record<string, unknown>)?.[level] !== 'function') {
        throw new ConfigError(`options.logger.${level}`, (logger as unknown as Record<string, unknown>)?.[level], 'must be a function', {
          context: 'new ResourceMonitor()',
        });
      }
    }
    if (typeof abortGrace !== 'number' || !Number.isFinite(abortGrace) || abortGrace < 0) {
      throw new ConfigError('options.abortGrace', abortGrace, 'must be a finite number >= 0 (milliseconds)', {
        context: 'new ResourceMonitor()',
      });
    }
    this.defaults = validatePolicy(options.defaults, 'new ResourceMonitor()', 'options.defaults');
    this.env = {
      clock,
      logger,
      abortGrace,
      wants: (event) => this.listenerCount(event) > 0,
      emit: (event, payload) => {
        try {
          (this.emit as (e: string, p: unknown) => boolean)(event, payload);
        } catch (error) {
          logger.error({ err: error, event }, `a "${event}" listener threw; the monitor carries on`);
        }
      },
      observe: (resource, from) => {
        if (this.resources.get(resource.name) !== resource) return;
        this.orchestrator.observe(resource, from);
        if (resource.group !== null) this.updateGroup(resource.group);
      },
    };
    this.orchestrator = new Orchestrator({
      graph: this.graph,
      logger,
      resource: (name) => (this.removing.has(name) ? undefined : this.resources.get(name)),
      closing: () => this.closing !== null,
      busyChanged: (name) => {
        const group = this.resources.get(name)?.group;
        if (group) this.updateGroup(group);
      },
    });
  }

  /**
   * Registers an inline resource type (a plugin object). Its name must be unique in this monitor.
   * Throws `ConfigError` for a malformed type (naming the missing or wrong member) and
   * `DuplicateError` for a taken name.
   */
  registerType<P, H>(type: ResourceType<P, H>): void;
  /**
   * Registers a resource type from a module (DESIGN §7): `isolation: 'worker'` or `'process'`
   * loads it in an isolation host, `'inline'` imports it here. Resolves once the type is loaded
   * and checked; rejects with `ConfigError` when the module does not load or exports no valid
   * type (no host is left running), `DuplicateError` for a taken name.
   */
  registerType(spec: HostedTypeSpec): Promise<void>;
  registerType<P, H>(type: ResourceType<P, H> | HostedTypeSpec): void | Promise<void> {
    if (isHostedTypeSpec(type)) return this.registerModule(type);
    this.assertOpen('registerType()');
    const valid = validateResourceType(type);
    if (this.types.has(valid.name)) throw new DuplicateError('resource type', valid.name);
    this.types.set(valid.name, { type: valid as ResourceType<unknown, unknown>, hostOf: () => null });
  }

  private async registerModule(spec: HostedTypeSpec): Promise<void> {
    this.assertOpen('registerType()');
    const checked = checkSpec(spec);
    if (checked.isolation === 'inline') {
      const type = await loadTypeExport(checked.module, checked.exportName);
      return this.registerType(type);
    }
    this.hosts ??= new HostManager({
      logger: this.env.logger,
      now: () => this.env.clock.now(),
      failResource: (name, reason) => this.resources.get(name)?.hostFailed(reason),
      emitHostExit: (event) => this.env.emit('hostExit', event),
    });
    const binding = await this.hosts.register(checked);
    this.assertOpen('registerType()');
    if (this.types.has(binding.type.name)) throw new DuplicateError('resource type', binding.type.name);
    this.types.set(binding.type.name, binding);
  }

  /**
   * Adds a resource, offline. Validates at once: the name, the type, the properties (through the
   * type's `validate`), the resolved policy, the group and the dependencies; nothing starts or
   * changes when any is wrong. `dependsOn` names must exist already, in the same group:
   * `DependencyError` for an unknown name, a cycle or a cross-group dependency.
   */
  addResource(spec: ResourceSpec): void {
    this.assertOpen('addResource()');
    if (typeof spec !== 'object' || spec === null) {
      throw new ConfigError('spec', spec, 'must be an object { name, type, properties?, policy?, group?, dependsOn? }', { context: 'addResource()' });
    }
    const { name, type: typeName } = spec;
    for (const key of Object.keys(spec)) {
      if (!RESOURCE_KEYS.includes(key)) {
        throw new ConfigError(key, (spec as unknown as Record<string, unknown>)[key], `is not a field of a resource (${RESOURCE_KEYS.join(', ')})`, {
          context: 'addResource()',
        });
      }
    }
    if (typeof name !== 'string' || name.length === 0) {
      throw new ConfigError('name', name, 'must be a non-empty string', { context: 'addResource()' });
    }
    const context = `resource "${name}"`;
    if (typeof typeName !== 'string' || typeName.length === 0) {
      throw new ConfigError('type', typeName, 'must be the name of a registered resource type', { context });
    }
    if (this.resources.has(name)) throw new DuplicateError('resource', name);
    const binding = this.types.get(typeName);
    if (!binding) throw new UnknownTypeError(typeName, name);
    const own = validatePolicy(spec.policy, context);
    const policy = resolvePolicy([own, binding.type.defaults, this.defaults], context);
    let properties: unknown = spec.properties ?? {};
    if (binding.type.validate) {
      try {
        properties = binding.type.validate(properties);
      } catch (error) {
        throw new ConfigError('properties', spec.properties, `were rejected by type "${typeName}": ${error instanceof Error ? error.message : String(error)}`, {
          context,
          cause: error,
        });
      }
    }
    const group = spec.group ?? null;
    if (group !== null && (typeof group !== 'string' || group.length === 0)) {
      throw new ConfigError('group', group, 'must be a non-empty string (the name of a group)', { context });
    }
    const deps = parseDependsOn(spec.dependsOn, context);
    this.graph.check(name, group, deps);
    binding.attach?.(name, policy);
    const resource = new Resource(name, typeName, binding, properties, policy, this.env);
    resource.group = group;
    resource.dependsOn = deps.given;
    this.resources.set(name, resource);
    this.graph.add(name, group, deps);
    if (group !== null) this.updateGroup(group);
  }

  /**
   * Replaces a resource's dependencies (DESIGN §9), with the checks of `addResource`: a
   * `DependencyError` (unknown name, cycle, cross-group) or `ConfigError` (shape) changes
   * nothing. If the resource is up and the new dependencies are not all online, it is taken
   * offline (its dependents first) and brought back online under the new dependencies, which
   * are brought online first; the promise settles as that `online()` does. Otherwise it
   * resolves at once (a resource whose target is online and that was waiting for its old
   * dependencies comes online if the new ones are online).
   *
   * @example await monitor.setDependencies('app', ['db', { anyOf: ['ip-a', 'ip-b'] }]);
   */
  async setDependencies(name: string, dependsOn: DependencyItem[]): Promise<void> {
    const resource = this.live(name, 'setDependencies');
    const deps = parseDependsOn(dependsOn, `setDependencies("${name}")`);
    this.graph.check(name, resource.group, deps);
    this.graph.set(name, deps);
    resource.dependsOn = deps.given;
    const up = resource.state === 'online' || resource.state === 'online-pending';
    if (up && !this.graph.satisfied(name, this.orchestrator.up)) {
      await this.orchestrator.stop(name, 'offline', 'dependencies changed; coming back under the new ones', false);
      if (this.closing) return;
      return this.orchestrator.online(name);
    }
    this.orchestrator.reconsider(name);
  }

  /**
   * Terminates the resource if it is not offline, calls its type's `close`, and forgets it.
   * Rejects with `DependencyError` (naming them) while other resources depend on it; nothing
   * changes then.
   */
  async removeResource(name: string): Promise<void> {
    const pending = this.removing.get(name);
    if (pending) return pending;
    const resource = this.get(name);
    const dependents = [...this.graph.dependentsOf(name)];
    if (dependents.length > 0) {
      throw new DependencyError(
        name,
        `cannot be removed: ${dependents.map((d) => `"${d}"`).join(', ')} ${dependents.length === 1 ? 'depends' : 'depend'} on it; remove ${dependents.length === 1 ? 'it' : 'them'} first, or change their dependsOn with setDependencies()`,
      );
    }
    this.graph.remove(name);
    if (resource.group !== null) this.updateGroup(resource.group);
    const binding = this.types.get(resource.typeName);
    const task = resource
      .dispose(false, 'removeResource() called')
      .then(() => binding?.detach?.(name))
      .finally(() => {
        this.resources.delete(name);
        this.removing.delete(name);
      });
    this.removing.set(name, task);
    return task;
  }

  /**
   * Brings a resource online, its unmet dependencies first (each at most once, independent
   * branches in parallel). Resolves once it is online; rejects with the cause if this attempt
   * failed (the plugin's own Error, a non-Error wrapped in `ResmonError`, a
   * `CallTimeoutError`), with `StateError` when `offline()`, `terminate()` or `close()`
   * abandoned the attempt, or with `DependencyError` (its `cause` the dependency's error) when a
   * dependency could not come online; the resource is then not started. Concurrent calls share
   * one attempt. Sets its target (and that of each dependency it brings up) to online.
   */
  async online(name: string): Promise<void> {
    this.live(name, 'online');
    return this.orchestrator.online(name);
  }

  /**
   * Takes a resource offline gracefully, after its dependents that need it (top-down,
   * independent branches in parallel). Concurrent calls share one offline. Sets its target (and
   * theirs) to offline.
   */
  async offline(name: string): Promise<void> {
    this.live(name, 'offline');
    return this.orchestrator.stop(name, 'offline', 'offline() called', true);
  }

  /**
   * The hard stop: cancels any restart, abandons what runs, calls the type's terminate. Ends
   * offline. Also works while `close()` is in progress, to cut a slow graceful shutdown short
   * (a second Ctrl-C); after `close()` has finished it rejects with `MonitorClosedError`.
   */
  async terminate(name: string): Promise<void> {
    if (this.closed) throw new MonitorClosedError(`terminate("${name}")`);
    this.get(name);
    if (this.removing.has(name)) throw new StateError(name, 'terminate() refused: the resource is being removed');
    return this.orchestrator.stop(name, 'terminate', 'terminate() called', true);
  }

  /**
   * Brings every member of a group online, bottom-up (each after its dependencies, independent
   * branches in parallel). Resolves once all are online; otherwise rejects, once every member's
   * attempt has settled, with the error of the first member (in the order they were added) that
   * did not come online. Throws `UnknownResourceError` for a group with no members.
   */
  async onlineGroup(group: string): Promise<void> {
    this.assertOpen(`onlineGroup("${group}")`);
    const members = [...this.members(group)];
    const results = await Promise.allSettled(members.map((name) => this.orchestrator.online(name)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Takes every member of a group offline, top-down (dependents first). Sets their targets to offline. */
  async offlineGroup(group: string): Promise<void> {
    this.assertOpen(`offlineGroup("${group}")`);
    const members = [...this.members(group)];
    await Promise.all(members.map((name) => this.orchestrator.stop(name, 'offline', `offlineGroup("${group}") called`, true)));
  }

  /** A JSON-safe picture of a group: its state (from its members') and its members. */
  groupStatus(group: string): GroupStatus {
    const members = [...this.members(group)];
    return { name: group, state: groupStateOf(members.map((name) => this.member(name))), resources: members };
  }

  /** The resource's state. */
  getState(name: string): ResourceState {
    return this.get(name).state;
  }

  /** A JSON-safe picture of one resource. */
  inspect(name: string): ResourceStatus {
    return this.get(name).inspect();
  }

  /** `inspect()` of every resource, in the order they were added. */
  snapshot(): ResourceStatus[] {
    return Array.from(this.resources.values(), (r) => r.inspect());
  }

  /**
   * Resolves with `inspect(name)` once the resource is in `state` (at once if it is already).
   * `timeout` rejects with `CallTimeoutError`, `signal` with its reason, `close()` with
   * `MonitorClosedError`.
   */
  async waitFor(name: string, state: ResourceState, options: WaitForOptions = {}): Promise<ResourceStatus> {
    const resource = this.get(name);
    const { timeout, signal } = options;
    if (!['offline', 'online-pending', 'online', 'offline-pending', 'failed'].includes(state)) {
      throw new ConfigError('state', state, "must be one of 'offline', 'online-pending', 'online', 'offline-pending', 'failed'", {
        context: `waitFor("${name}")`,
      });
    }
    if (timeout !== undefined && (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0)) {
      throw new ConfigError('options.timeout', timeout, 'must be a number >= 0 (milliseconds)', { context: `waitFor("${name}")` });
    }
    return resource.waitFor(state, timeout, signal);
  }

  /**
   * Takes every resource offline (in parallel), calls each type's `close`, and releases every
   * timer, listener and lock. Idempotent: later calls return the same promise. Afterwards every
   * operation rejects with `MonitorClosedError`.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Top-down: each resource after its dependents.
      const disposed = new Map<string, Promise<void>>();
      for (const name of topDown(this.graph, this.resources.keys())) {
        const resource = this.resources.get(name);
        if (!resource) continue;
        const before = [...this.graph.dependentsOf(name)].map((d) => disposed.get(d));
        disposed.set(name, Promise.all(before).then(() => resource.dispose(true, 'monitor closed')));
      }
      await Promise.all(disposed.values());
      await Promise.all(Array.from(this.removing.values(), (task) => task.catch(() => {})));
      this.closed = true;
      this.resources.clear();
      await Promise.all(Array.from(this.types.values(), (binding) => binding.dispose?.()));
      await this.hosts?.close();
      this.removeAllListeners();
    })();
    return this.closing;
  }

  /** `await using monitor = new ResourceMonitor()`: closes the monitor at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private assertOpen(operation: string): void {
    if (this.closing) throw new MonitorClosedError(operation);
  }

  private members(group: string): ReadonlySet<string> {
    const members = typeof group === 'string' ? this.graph.membersOf(group) : undefined;
    if (!members) throw new UnknownResourceError(String(group), 'group');
    return members;
  }

  private member(name: string): GroupMember {
    const r = this.resources.get(name);
    if (!r) return { state: 'offline', awaitingRestart: false, busy: false };
    return { state: r.state, awaitingRestart: r.awaitingRestart, busy: this.orchestrator.busy(name) };
  }

  /** Recomputes a group's state; emits groupStateChange when it changed. */
  private updateGroup(group: string): void {
    const members = this.graph.membersOf(group);
    if (!members) {
      this.groupStates.forget(group);
      return;
    }
    const to = groupStateOf(Array.from(members, (name) => this.member(name)));
    const from = this.groupStates.update(group, to);
    if (from !== null && this.env.wants('groupStateChange')) {
      this.env.emit('groupStateChange', { group, at: this.env.clock.now(), from, to });
    }
  }

  private get(name: string): Resource {
    const resource = this.resources.get(name);
    if (!resource) throw new UnknownResourceError(String(name));
    return resource;
  }

  /** The resource, for an operation that needs the monitor open and the resource not being removed. */
  private live(name: string, operation: string): Resource {
    this.assertOpen(`${operation}("${name}")`);
    const resource = this.get(name);
    if (this.removing.has(name)) throw new StateError(name, `${operation}() refused: the resource is being removed`);
    return resource;
  }
}
