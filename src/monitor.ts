import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock } from './clock.js';
import { TimerWheel } from './timer-wheel.js';
import { WorkQueue } from './work-queue.js';
import { CallLane } from './call.js';
import {
  CallTimeoutError,
  ConfigError,
  DependencyError,
  describeValue,
  DuplicateError,
  isConfigError,
  MonitorClosedError,
  reasonOf,
  ResmonError,
  StateError,
  toError,
  UnknownResourceError,
  UnknownTypeError,
} from './errors.js';
import { eventChannel } from './diagnostics.js';
import type { ResourceMonitorEvents } from './events.js';
import { type Logger, neverThrowing, silentLogger, tagged } from './logger.js';
import { PolicyTable, type ResourcePolicy, resolvePolicy, snapshotFields, validatePolicy } from './policy.js';
import { HostManager } from './hosts/manager.js';
import { checkSpec, type HostedTypeSpec, isHostedTypeSpec } from './hosts/spec.js';
import { loadTypeExport } from './hosts/load.js';
import { MONITOR_CODES } from './control.js';
import { Resource } from './resource.js';
import type { ResourceEnv } from './resource-env.js';
import { DEFAULT_PROCESSING, type PropertiesOutcome, RESOURCE_STATES, type ResourceSpec, type ResourceState, type ResourceStatus, type ResourceType, type TypeBinding } from './types.js';
import { checkResourceType } from './validate.js';
import { DependencyGraph, parseDependsOn, topDown } from './graph.js';
import { categoryOf, type GroupState, GroupStates, type GroupStatus } from './groups.js';
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
   * settle before it runs anyway (a plugin that ignores its signal cannot hold terminate back
   * longer). Milliseconds, ≥ 0.
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

/** A control code must be a non-empty string. */
function checkCode(code: unknown, context: string): asserts code is string {
  if (typeof code !== 'string' || code.length === 0) {
    throw new ConfigError('code', code, `must be a non-empty string (the monitor's own codes: ${MONITOR_CODES.join(', ')})`, { context });
  }
}

/** A name a caller passed, for an error message: itself when it is a string, else its description (never throws). */
function nameOf(name: unknown): string {
  return typeof name === 'string' ? name : describeValue(name);
}

/** A copy of a status (the kept final ones must not change through what a caller got). */
function copyStatus(status: ResourceStatus): ResourceStatus {
  const { looksAlive, isAlive } = status.lastChecks;
  return {
    ...status,
    lastChecks: { looksAlive: looksAlive && { ...looksAlive }, isAlive: isAlive && { ...isAlive } },
    restarts: { ...status.restarts },
  };
}

/** How eventemitter3 stores a listener. */
interface Listener {
  fn: (payload: unknown) => void;
  context: unknown;
  once: boolean;
}

/** A member of a user's object, a ConfigError when reading it throws. */
function readMember(value: unknown, member: string, field: string, context: string): unknown {
  try {
    return (value as Record<string, unknown> | null | undefined)?.[member];
  } catch (error) {
    throw new ConfigError(field, undefined, `could not be read: ${reasonOf(error)}`, { context, cause: error });
  }
}

/**
 * The resource monitor: registers resource types, adds resources, brings them online, polls
 * their health on two schedules, fails, terminates and restarts them by policy, and emits an
 * event for every state change.
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
  /** The monitor's validated defaults (a copy of what the options gave). */
  private readonly defaults: Partial<ResourcePolicy>;
  /** Each type's validated defaults, copied at registration. */
  private readonly typeDefaults = new Map<string, Partial<ResourcePolicy>>();
  /** Resolved policies, one object per distinct policy. */
  private readonly policies = new PolicyTable();
  private readonly env: ResourceEnv<Resource>;
  private closing: Promise<void> | null = null;
  /** close() has finished. */
  private closed = false;
  /**
   * > 0 while listeners run. A public operation called then (from a listener) starts a
   * microtask later, once the transition that emitted the event has done its bookkeeping.
   */
  private delivering = 0;
  /** Every resource's last `inspect()`, kept by close() for the read-only calls made afterwards. */
  private final: Map<string, ResourceStatus> | null = null;
  /** The isolation hosts, from the first hosted registerType(). */
  private hosts: HostManager | null = null;
  /** Who depends on whom, and the groups. */
  private readonly graph = new DependencyGraph();
  private readonly groupStates = new GroupStates();
  /** Dependencies in motion: ordering of online/offline, following failures, bringing back. */
  private readonly orchestrator: Orchestrator;
  /** One lane per type for `typeControl` calls (made at the first call). */
  private readonly typeLanes = new Map<string, CallLane>();
  /** Aborted when close() starts: typeControl calls in flight are abandoned, queued ones never start. */
  private readonly closeAbort = new AbortController();

  constructor(options: ResourceMonitorOptions = {}) {
    super();
    const context = 'new ResourceMonitor()';
    if (typeof options !== 'object' || options === null) {
      throw new ConfigError('options', options, 'must be an object', { context });
    }
    // Read each option once; only this copy is used.
    const given = snapshotFields(options, 'options', context);
    for (const key of Object.keys(given)) {
      if (!OPTION_KEYS.has(key)) {
        throw new ConfigError(`options.${key}`, given[key], `is not an option (known: ${[...OPTION_KEYS].join(', ')})`, { context });
      }
    }
    const clock = (given.clock ?? systemClock) as Clock;
    const logger = (given.logger ?? silentLogger) as Logger;
    const abortGrace = given.abortGrace ?? 1_000;
    for (const fn of ['now', 'setTimeout', 'clearTimeout'] as const) {
      const member = readMember(clock, fn, `options.clock.${fn}`, context);
      if (typeof member !== 'function') throw new ConfigError(`options.clock.${fn}`, member, 'must be a function', { context });
    }
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      const member = readMember(logger, level, `options.logger.${level}`, context);
      if (typeof member !== 'function') throw new ConfigError(`options.logger.${level}`, member, 'must be a function', { context });
    }
    if (typeof abortGrace !== 'number' || !Number.isFinite(abortGrace) || abortGrace < 0) {
      throw new ConfigError('options.abortGrace', abortGrace, 'must be a finite number >= 0 (milliseconds)', { context });
    }
    this.defaults = validatePolicy(given.defaults, context, 'options.defaults');
    this.env = {
      clock,
      wheel: new TimerWheel(clock),
      work: new WorkQueue(clock),
      logger: neverThrowing(logger),
      abortGrace,
      // Payloads are built only when someone listens: a monitor.on() listener, or a subscriber
      // of the event's diagnostics channel (hasSubscribers is a field read: free otherwise).
      wants: (event) => this.listenerCount(event) > 0 || eventChannel(event).hasSubscribers,
      emit: (event, payload) => this.deliver(event, payload),
      mayRestart: (resource) => this.resources.get(resource.name) !== resource || this.orchestrator.mayRestart(resource),
      delivering: () => this.delivering > 0,
      observe: (resource, from) => {
        if (this.resources.get(resource.name) !== resource) return;
        this.orchestrator.observe(resource, from);
        if (resource.group !== null) this.updateMember(resource);
      },
    };
    this.orchestrator = new Orchestrator({
      graph: this.graph,
      logger: this.env.logger,
      resource: (name) => (this.removing.has(name) ? undefined : this.resources.get(name)),
      removal: (name) => this.removing.get(name),
      closing: () => this.closing !== null,
      busyChanged: (name) => {
        const resource = this.resources.get(name);
        if (resource?.group != null) this.updateMember(resource);
      },
    });
  }

  /**
   * Calls every listener of `event` with `payload`, in order, each exactly once even when an
   * earlier one throws (eventemitter3's own `emit` stops at the first throw); a throw is logged.
   * `once` listeners are removed before they run, as eventemitter3 does.
   */
  private deliver<K extends keyof ResourceMonitorEvents>(event: K, payload: Parameters<ResourceMonitorEvents[K]>[0]): void {
    const key = EventEmitter.prefixed ? `${EventEmitter.prefixed}${event}` : event;
    const stored = (this as unknown as { _events: Record<string, Listener | Listener[] | undefined> })._events[key];
    const channel = eventChannel(event);
    if (!stored && !channel.hasSubscribers) return;
    // A listener added or removed meanwhile changes the next event, not this one.
    const listeners = stored ? (Array.isArray(stored) ? stored.slice() : [stored]) : [];
    // Channel subscribers count as listeners for the re-entrancy rule too.
    this.delivering++;
    try {
      // diagnostics_channel first (resmon:<event>). A throwing subscriber does not reach us: Node
      // reports it as an uncaught exception on the next tick.
      if (channel.hasSubscribers) channel.publish(payload);
      for (const listener of listeners) {
        if (listener.once) this.removeListener(event, listener.fn as never, undefined, true);
        try {
          listener.fn.call(listener.context, payload);
        } catch (error) {
          try {
            this.env.logger.error({ err: error, event }, `a "${event}" listener threw; the monitor carries on`);
          } catch {
            // A logger that throws (on a hostile error) must not break the delivery either.
          }
        }
      }
    } finally {
      this.delivering--;
    }
  }

  /**
   * Called first by every asynchronous operation: from inside a listener, wait a microtask, so
   * the operation acts on a resource whose transition has finished (the listener re-entrancy
   * rule: a call from a listener has the same result as the same call a microtask later).
   */
  private settle(): Promise<void> | undefined {
    return this.delivering > 0 ? Promise.resolve() : undefined;
  }

  /**
   * Registers an inline resource type (a plugin object). Its name must be unique in this monitor.
   * Throws `ConfigError` for a malformed type (naming the missing or wrong member) and
   * `DuplicateError` for a taken name.
   */
  registerType<P, H>(type: ResourceType<P, H>): void;
  /**
   * Registers a resource type from a module: `isolation: 'worker'` or `'process'`
   * loads it in an isolation host, `'inline'` imports it here. Resolves once the type is loaded
   * and checked; rejects with `ConfigError` when the module does not load or exports no valid
   * type (no host is left running), `DuplicateError` for a taken name.
   */
  registerType(spec: HostedTypeSpec): Promise<void>;
  registerType<P, H>(type: ResourceType<P, H> | HostedTypeSpec): void | Promise<void> {
    if (isHostedTypeSpec(type)) return this.registerModule(type);
    this.assertOpen('registerType()');
    const valid = checkResourceType(type);
    if (this.types.has(valid.name)) throw new DuplicateError('resource type', valid.name);
    this.types.set(valid.name, { type: valid.type as ResourceType<unknown, unknown>, hostOf: () => null });
    this.typeDefaults.set(valid.name, valid.defaults);
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
      clock: this.env.clock,
      emitHostExit: (event) => this.env.emit('hostExit', event),
    });
    const binding = await this.hosts.register(checked);
    this.assertOpen('registerType()');
    const name = binding.type.name;
    if (this.types.has(name)) throw new DuplicateError('resource type', name);
    const defaults = validatePolicy(binding.type.defaults, `registerType() type "${name}"`, 'type.defaults');
    this.types.set(name, binding);
    this.typeDefaults.set(name, defaults);
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
    // Read each field once; only this copy is used.
    const fields = snapshotFields(spec, 'spec', 'addResource()', '');
    for (const key of Object.keys(fields)) {
      if (!RESOURCE_KEYS.includes(key)) {
        throw new ConfigError(key, fields[key], `is not a field of a resource (${RESOURCE_KEYS.join(', ')})`, {
          context: 'addResource()',
        });
      }
    }
    const { name, type: typeName } = fields;
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
    const own = validatePolicy(fields.policy, context);
    let policy = this.resolveFor(typeName, binding, own, context);
    const properties = this.validateInline(binding, fields.properties, context);
    if (binding.type.defaultsFor) policy = this.resolveFor(typeName, binding, own, context, properties);
    const group = fields.group ?? null;
    if (group !== null && (typeof group !== 'string' || group.length === 0)) {
      throw new ConfigError('group', group, 'must be a non-empty string (the name of a group)', { context });
    }
    const deps = parseDependsOn(fields.dependsOn, context);
    this.graph.check(name, group, deps, (n) => this.graph.has(n) && !this.removing.has(n));
    const resource = new Resource(name, typeName, binding, properties, policy, this.env);
    binding.attach?.(name, policy, (reason) => resource.hostFailed(reason));
    resource.ownPolicy = own;
    resource.group = group;
    resource.dependsOn = deps.given;
    this.resources.set(name, resource);
    this.graph.add(name, group, deps);
    if (group !== null) this.updateMember(resource);
  }

  /**
   * Resolves a resource's policy from its own layer, as addResource and setPolicy do: own, then
   * what the type's `defaultsFor` derives from `properties` (when given), then the type's
   * defaults, then the monitor's.
   */
  private resolveFor(typeName: string, binding: TypeBinding, own: Partial<ResourcePolicy>, context: string, properties?: unknown): ResourcePolicy {
    const typeDefaults = this.typeDefaults.get(typeName);
    const derived = properties === undefined ? undefined : this.derivedDefaults(binding, properties, context);
    const policy = resolvePolicy([own, derived, typeDefaults, this.defaults], context);
    if (!binding.attach && (own.separateMonitor === true || typeDefaults?.separateMonitor === true)) {
      // The monitor-wide default may say true for its hosted types; inline ones ignore it.
      throw new ConfigError('policy.separateMonitor', true, 'applies to hosted types only (registered with isolation: worker or process); an inline type has no host to separate', {
        context,
      });
    }
    return this.policies.intern(policy);
  }

  /** The policy layer the type's `defaultsFor` derives from validated properties (an OCF agent's advertised timeouts). */
  private derivedDefaults(binding: TypeBinding, properties: unknown, context: string): Partial<ResourcePolicy> | undefined {
    const defaultsFor = binding.type.defaultsFor;
    if (!defaultsFor) return undefined;
    let layer: unknown;
    try {
      layer = defaultsFor.call(binding.type, properties as Readonly<unknown>);
    } catch (error) {
      throw new ConfigError('defaults', undefined, `could not be derived by type "${binding.type.name}" from the properties: ${reasonOf(error)}`, {
        context,
        cause: error,
      });
    }
    return validatePolicy(layer, `${context} (defaults of type "${binding.type.name}")`, 'defaults');
  }

  /** Runs an inline type's validate (a hosted type's runs in its host); a rejection becomes a ConfigError. */
  private validateInline(binding: TypeBinding, properties: unknown, context: string): unknown {
    const validate = binding.type.validate;
    if (!validate) return properties ?? {};
    try {
      return validate.call(binding.type, properties ?? {});
    } catch (error) {
      throw new ConfigError('properties', properties, `were rejected by type "${binding.type.name}": ${reasonOf(error)}`, {
        context,
        cause: error,
      });
    }
  }

  /**
   * Changes a resource's properties without removing it (WSFC: setting private properties
   * through `ResourceControl`). The type's `validate` runs first: a rejection is a
   * `ConfigError` and changes nothing. Then:
   *
   * - online, and the type has `applyProperties`: it is called (one call on the resource's lane,
   *   bounded by `deadlockTimeout`). Resolves `'applied'` when it returned nothing (the new
   *   properties are in force: every later call sees them), `'stored'` when it returned
   *   `'stored'`. If it throws or passes its deadline, the promise rejects and the old
   *   properties stay in force.
   * - online without `applyProperties`, online-pending or offline-pending: `'stored'`; the
   *   calls of the running instance keep the old properties, the next online gets the new ones.
   * - offline or failed: `'applied'`; in force at once (the next online, or restart, uses them).
   *
   * @example
   * ```ts
   * const outcome = await monitor.setProperties('web', { ...current, port: 8081 });
   * if (outcome === 'stored') await monitor.offline('web').then(() => monitor.online('web'));
   * ```
   */
  async setProperties(name: string, properties: unknown): Promise<PropertiesOutcome> {
    if (this.delivering > 0) await this.settle();
    const resource = this.live(name, 'setProperties');
    const binding = resource.binding;
    const context = `setProperties("${name}")`;
    let next: unknown = properties;
    if (binding.validate) {
      try {
        structuredClone(properties);
      } catch (error) {
        throw new ConfigError('properties', properties, `must be structured-cloneable to reach a host (${reasonOf(error)})`, { context, cause: error });
      }
      try {
        await binding.validate(name, properties);
      } catch (error) {
        throw isConfigError(error) ? error : new ConfigError('properties', properties, `were rejected by type "${binding.type.name}": ${reasonOf(error)}`, { context, cause: error });
      }
      this.live(name, 'setProperties');
    } else {
      next = this.validateInline(binding, properties, context);
    }
    // A type whose defaults depend on the properties (ocf: the agent's advertised timeouts) gets
    // them derived again, checked before anything changes.
    const derived = binding.type.defaultsFor ? this.resolveFor(resource.typeName, binding, resource.ownPolicy, context, next) : null;
    const outcome = await resource.setProperties(next);
    if (derived) resource.setPolicy(resource.ownPolicy, derived);
    return outcome;
  }

  /**
   * Changes a resource's own policy while it runs: `policy` is merged into the policy the
   * resource was added with (a field set to `undefined` is removed, so the type's or the
   * monitor's default applies again), and the result is validated as `addResource` does (a
   * `ConfigError` changes nothing). It takes effect at once: calls and restarts scheduled from
   * now use it, and while the resource is online both poll schedules are re-armed from now.
   * The restart window is kept (a smaller `restartThreshold` applies from the next failure); a
   * restart already scheduled keeps its delay. `separateMonitor` cannot change while the
   * resource exists (remove and add it).
   *
   * @example
   * ```ts
   * await monitor.setPolicy('web', { isAlivePollInterval: 5_000, restartThreshold: 3 });
   * ```
   */
  async setPolicy(name: string, policy: { [K in keyof ResourcePolicy]?: ResourcePolicy[K] | undefined }): Promise<void> {
    if (this.delivering > 0) await this.settle();
    const resource = this.live(name, 'setPolicy');
    const context = `setPolicy("${name}")`;
    if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
      throw new ConfigError('policy', policy, 'must be an object of policy fields', { context });
    }
    // Read each field once; a field given as undefined is removed from the own layer.
    const fields = snapshotFields(policy, 'policy', context);
    const changes = validatePolicy(fields, context);
    const own: Partial<ResourcePolicy> = { ...resource.ownPolicy };
    for (const field of Object.keys(fields)) {
      if (fields[field] === undefined) delete (own as Record<string, unknown>)[field];
      else (own as Record<string, unknown>)[field] = (changes as Record<string, unknown>)[field];
    }
    const resolved = this.resolveFor(resource.typeName, resource.binding, own, context, resource.configuredProperties());
    if (resolved.separateMonitor !== resource.policy.separateMonitor) {
      throw new ConfigError('policy.separateMonitor', resolved.separateMonitor, 'cannot change while the resource exists (it decides the host the resource was placed in); remove and add the resource', {
        context,
      });
    }
    resource.setPolicy(own, resolved);
  }

  /**
   * Sends a control code to a resource (WSFC `ResourceControl`) and resolves with the answer.
   * The type's `control(ctx, code, input)` answers first: one call on the resource's lane,
   * bounded by `deadlockTimeout`, abandoned (rejecting with `StateError`) when terminate,
   * offline or close preempts it. When the type has no `control`, or it returns
   * `DEFAULT_PROCESSING`, the monitor answers its own codes: `'get-properties'` (the latest
   * properties accepted), `'get-policy'` (the resolved policy), `'get-status'` (= `inspect()`).
   * Any other code rejects with a `ConfigError` naming it.
   *
   * @example
   * ```ts
   * await monitor.control('web', 'rotate-logs');
   * const policy = await monitor.control('web', 'get-policy');
   * ```
   */
  async control(name: string, code: string, input?: unknown): Promise<unknown> {
    if (this.delivering > 0) await this.settle();
    const resource = this.live(name, 'control');
    const context = `control("${name}")`;
    checkCode(code, context);
    if (resource.binding.attach) {
      try {
        structuredClone(input);
      } catch (error) {
        throw new ConfigError('input', input, `must be structured-cloneable to reach the resource's host (${reasonOf(error)})`, { context, cause: error });
      }
    }
    return resource.control(code, input);
  }

  /**
   * Sends a control code to a resource type (WSFC `ResourceTypeControl`). The type's
   * `typeControl(code, input, ctx)` answers first, bounded by `deadlockTimeout` (the type's and
   * the monitor's defaults); calls to one type run one at a time. When the type has none, or it
   * returns `DEFAULT_PROCESSING`, the monitor answers `'get-policy'` (the policy a resource of
   * the type gets without a policy of its own) and `'get-status'` (`inspect()` of the type's
   * resources). Any other code rejects with a `ConfigError` naming it.
   *
   * @example
   * ```ts
   * const signals = await monitor.controlType('process', 'list-signals');
   * ```
   */
  async controlType(typeName: string, code: string, input?: unknown): Promise<unknown> {
    if (this.delivering > 0) await this.settle();
    this.assertOpen(`controlType("${typeName}")`);
    const binding = this.types.get(typeName);
    if (!binding) throw new UnknownTypeError(nameOf(typeName));
    const context = `controlType("${typeName}")`;
    checkCode(code, context);
    const { type } = binding;
    const fn = type.typeControl;
    const defaults = resolvePolicy([this.typeDefaults.get(typeName), this.defaults], context);
    if (fn) {
      let lane = this.typeLanes.get(typeName);
      if (!lane) {
        lane = new CallLane(this.env.clock, this.env.abortGrace, `type ${typeName}`);
        this.typeLanes.set(typeName, lane);
      }
      const log = tagged(this.env.logger, { type: typeName, entryPoint: 'typeControl' });
      const out = await lane.run({
        entryPoint: 'typeControl',
        timeoutMs: defaults.deadlockTimeout,
        parent: this.closeAbort.signal,
        invoke: (call) =>
          fn.call(type, code, input, {
            type: typeName,
            get signal() {
              return call.signal;
            },
            log,
          }),
      });
      switch (out.kind) {
        case 'ok':
          if (out.value !== DEFAULT_PROCESSING) return out.value;
          break;
        case 'error':
          throw toError(out.error, `typeControl("${code}") rejected`);
        case 'timeout':
          log.warn(`typeControl("${code}") passed deadlockTimeout (${out.timeoutMs} ms) and was abandoned`);
          throw new CallTimeoutError(`type "${typeName}": typeControl("${code}") passed deadlockTimeout (${out.timeoutMs} ms) and was abandoned`, out.timeoutMs);
        case 'abandoned':
          throw new ResmonError(`type "${typeName}": typeControl("${code}") was abandoned: the monitor closed`);
      }
    }
    switch (code) {
      case 'get-policy':
        return { ...defaults };
      case 'get-status':
        return Array.from(this.resources.values())
          .filter((r) => r.typeName === typeName)
          .map((r) => r.inspect());
      default:
        throw new ConfigError('code', code, `is not a control code that type "${typeName}" or the monitor knows (the monitor's own for a type: get-policy, get-status)`, {
          context,
        });
    }
  }


  /**
   * Replaces a resource's dependencies, with the checks of `addResource`: a
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
    if (this.delivering > 0) await this.settle();
    const resource = this.live(name, 'setDependencies');
    const deps = parseDependsOn(dependsOn, `setDependencies("${name}")`);
    this.graph.check(name, resource.group, deps, (n) => this.graph.has(n) && !this.removing.has(n));
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
    if (this.delivering > 0) await this.settle();
    if (this.closed) throw new MonitorClosedError(`removeResource("${name}")`);
    const pending = this.removing.get(name);
    if (pending) return pending;
    const resource = this.get(name);
    // Dependents being removed are waited for (they go first); any other dependent forbids it.
    const dependents = [...this.graph.dependentsOf(name)];
    const staying = dependents.filter((d) => !this.removing.has(d));
    if (staying.length > 0) {
      throw new DependencyError(
        name,
        `cannot be removed: ${staying.map((d) => `"${d}"`).join(', ')} ${staying.length === 1 ? 'depends' : 'depend'} on it; remove ${staying.length === 1 ? 'it' : 'them'} first, or change their dependsOn with setDependencies()`,
      );
    }
    const first = dependents.map((d) => this.removing.get(d)?.catch(() => {}));
    const binding = this.types.get(resource.typeName);
    const task = Promise.all(first)
      .then(() => resource.dispose(false, 'removeResource() called'))
      .then(() => binding?.detach?.(name))
      .finally(() => {
        this.graph.remove(name);
        this.resources.delete(name);
        this.removing.delete(name);
        if (resource.group !== null) this.groupChanged(resource.group, this.groupStates.remove(resource.group, name));
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
    if (this.delivering > 0) await this.settle();
    this.live(name, 'online');
    return this.orchestrator.online(name);
  }

  /**
   * Takes a resource offline gracefully, after its dependents that need it (top-down,
   * independent branches in parallel). Concurrent calls share one offline. Sets its target (and
   * theirs) to offline.
   */
  async offline(name: string): Promise<void> {
    if (this.delivering > 0) await this.settle();
    this.live(name, 'offline');
    return this.orchestrator.stop(name, 'offline', 'offline() called', true, false, true);
  }

  /**
   * The hard stop: cancels any restart, abandons what runs, calls the type's terminate. Ends
   * offline. Also works while `close()` is in progress, to cut a slow graceful shutdown short
   * (a second Ctrl-C); after `close()` has finished it rejects with `MonitorClosedError`.
   */
  async terminate(name: string): Promise<void> {
    if (this.delivering > 0) await this.settle();
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
    if (this.delivering > 0) await this.settle();
    this.assertOpen(`onlineGroup("${group}")`);
    const members = [...this.members(group)];
    const results = await Promise.allSettled(members.map((name) => this.orchestrator.online(name)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Takes every member of a group offline, top-down (dependents first). Sets their targets to offline. */
  async offlineGroup(group: string): Promise<void> {
    if (this.delivering > 0) await this.settle();
    this.assertOpen(`offlineGroup("${group}")`);
    const members = [...this.members(group)];
    await Promise.all(members.map((name) => this.orchestrator.stop(name, 'offline', `offlineGroup("${group}") called`, true)));
  }

  /**
   * Sets the fencing token that every later call of the resource receives as `ctx.fencingToken`
   * (`undefined` removes it). `resmon/cluster` sets it on each resource of a unit it acquires,
   * before bringing the unit online; an embedder with a lease of its own can do the same. Throws
   * `ConfigError` for a token that is not a non-negative safe integer, `UnknownResourceError` for
   * an unknown name.
   * @example monitor.setFencingToken('db', 42); await monitor.online('db'); // online sees ctx.fencingToken === 42
   */
  setFencingToken(name: string, token: number | undefined): void {
    const resource = this.live(name, 'setFencingToken');
    if (token !== undefined && (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 0)) {
      throw new ConfigError('token', token, 'must be a non-negative safe integer, or undefined', { context: `setFencingToken("${name}")` });
    }
    resource.fencingToken = token;
  }

  /** A JSON-safe picture of a group: its state (from its members') and its members. */
  groupStatus(group: string): GroupStatus {
    const members = [...this.members(group)];
    return { name: group, state: this.groupStates.stateOf(group), resources: members };
  }

  /** The resource's state. After `close()`: its final state. */
  getState(name: string): ResourceState {
    if (this.final) return this.finalOf(name).state;
    return this.get(name).state;
  }

  /** A JSON-safe picture of one resource. After `close()`: its final picture. */
  inspect(name: string): ResourceStatus {
    if (this.final) return copyStatus(this.finalOf(name));
    return this.get(name).inspect();
  }

  /** `inspect()` of every resource, in the order they were added. After `close()`: their final pictures. */
  snapshot(): ResourceStatus[] {
    if (this.final) return Array.from(this.final.values(), copyStatus);
    return Array.from(this.resources.values(), (r) => r.inspect());
  }

  /**
   * Resolves with `inspect(name)` once the resource is in `state` (at once if it is already).
   * `timeout` rejects with `CallTimeoutError`, `signal` with its reason, `close()` with
   * `MonitorClosedError`.
   */
  async waitFor(name: string, state: ResourceState, options: WaitForOptions = {}): Promise<ResourceStatus> {
    if (this.delivering > 0) await this.settle();
    if (this.closed) throw new MonitorClosedError(`waitFor("${name}")`);
    const resource = this.get(name);
    const { timeout, signal } = options;
    if (!(RESOURCE_STATES as readonly unknown[]).includes(state)) {
      throw new ConfigError('state', state, `must be one of ${RESOURCE_STATES.map((s) => `'${s}'`).join(', ')}`, {
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
   * timer, listener and lock. Idempotent: later calls return the same promise. Afterwards the
   * read-only calls (`getState`, `inspect`, `snapshot`) answer with each resource's final state,
   * and every other operation throws (or rejects with) `MonitorClosedError`.
   */
  close(): Promise<void> {
    // From a listener: refuse new operations at once, start closing a microtask later.
    const settling = this.settle();
    this.closing ??= (async () => {
      if (settling) await settling;
      if (!this.closeAbort.signal.aborted) {
        this.closeAbort.abort(new MonitorClosedError('typeControl()'));
        for (const lane of this.typeLanes.values()) lane.preempt('the monitor closed');
      }
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
      this.final = new Map(Array.from(this.resources.values(), (r) => [r.name, r.inspect()] as const));
      this.closed = true;
      this.resources.clear();
      for (const lane of this.typeLanes.values()) lane.dispose();
      this.typeLanes.clear();
      // Every resource stopped its polls; the shared poll timer ends with them.
      this.env.wheel.dispose();
      await Promise.all(Array.from(this.types.values(), (binding) => binding.dispose?.()));
      await this.hosts?.close();
      this.removeAllListeners();
    })();
    return this.closing;
  }

  /**
   * True once `close()` has been called (it may still be taking resources offline). The health
   * handler's `/livez` answers 503 from then on.
   */
  isClosed(): boolean {
    return this.closing !== null;
  }

  /** `await using monitor = new ResourceMonitor()`: closes the monitor at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private assertOpen(operation: string): void {
    if (this.closing) throw new MonitorClosedError(operation);
  }

  private finalOf(name: string): ResourceStatus {
    const status = this.final?.get(name);
    if (!status) throw new UnknownResourceError(nameOf(name));
    return status;
  }

  private members(group: string): ReadonlySet<string> {
    const members = typeof group === 'string' ? this.graph.membersOf(group) : undefined;
    if (!members) throw new UnknownResourceError(nameOf(group), 'group');
    return members;
  }

  /** Records a member's state in its group's; emits groupStateChange when the group's changed. O(1). */
  private updateMember(resource: Resource): void {
    const group = resource.group;
    if (group === null) return;
    const category = categoryOf({ state: resource.state, awaitingRestart: resource.awaitingRestart, busy: this.orchestrator.busy(resource.name) });
    this.groupChanged(group, this.groupStates.update(group, resource.name, category));
  }

  private groupChanged(group: string, from: GroupState | null): void {
    if (from === null || !this.env.wants('groupStateChange')) return;
    this.env.emit('groupStateChange', { group, at: this.env.clock.now(), from, to: this.groupStates.stateOf(group) });
  }

  private get(name: string): Resource {
    const resource = this.resources.get(name);
    if (!resource) throw new UnknownResourceError(nameOf(name));
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
