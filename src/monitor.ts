import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock } from './clock.js';
import {
  ConfigError,
  DuplicateError,
  MonitorClosedError,
  reasonOf,
  StateError,
  UnknownResourceError,
  UnknownTypeError,
} from './errors.js';
import type { ResourceMonitorEvents } from './events.js';
import { guarded, type Logger, silentLogger } from './logger.js';
import { type ResourcePolicy, resolvePolicy, snapshotFields, validatePolicy } from './policy.js';
import { HostManager } from './hosts/manager.js';
import { checkSpec, type HostedTypeSpec, isHostedTypeSpec } from './hosts/spec.js';
import { loadTypeExport } from './hosts/load.js';
import { Resource, type ResourceEnv, type TypeBinding } from './resource.js';
import type { ResourceSpec, ResourceState, ResourceStatus, ResourceType } from './types.js';
import { checkResourceType } from './validate.js';

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
  /** The monitor's validated defaults (a copy of what the options gave). */
  private readonly defaults: Partial<ResourcePolicy>;
  /** Each type's validated defaults, copied at registration. */
  private readonly typeDefaults = new Map<string, Partial<ResourcePolicy>>();
  private readonly env: ResourceEnv;
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
      logger: guarded(logger),
      abortGrace,
      wants: (event) => this.listenerCount(event) > 0,
      emit: (event, payload) => this.deliver(event, payload),
      delivering: () => this.delivering > 0,
    };
  }

  /**
   * Calls every listener of `event` with `payload`, in order, each exactly once even when an
   * earlier one throws (eventemitter3's own `emit` stops at the first throw); a throw is logged.
   * `once` listeners are removed before they run, as eventemitter3 does.
   */
  private deliver<K extends keyof ResourceMonitorEvents>(event: K, payload: Parameters<ResourceMonitorEvents[K]>[0]): void {
    const key = EventEmitter.prefixed ? `${EventEmitter.prefixed}${event}` : event;
    const stored = (this as unknown as { _events: Record<string, Listener | Listener[] | undefined> })._events[key];
    if (!stored) return;
    // A listener added or removed meanwhile changes the next event, not this one.
    const listeners = Array.isArray(stored) ? stored.slice() : [stored];
    this.delivering++;
    try {
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
   * Registers a resource type from a module (DESIGN §7): `isolation: 'worker'` or `'process'`
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
      now: () => this.env.clock.now(),
      failResource: (name, reason) => this.resources.get(name)?.hostFailed(reason),
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
   * type's `validate`) and the resolved policy; nothing starts when any is wrong.
   */
  addResource(spec: ResourceSpec): void {
    this.assertOpen('addResource()');
    if (typeof spec !== 'object' || spec === null) {
      throw new ConfigError('spec', spec, 'must be an object { name, type, properties?, policy? }', { context: 'addResource()' });
    }
    // Read each field once; only this copy is used.
    const fields = snapshotFields(spec, 'spec', 'addResource()', '');
    for (const key of Object.keys(fields)) {
      if (!['name', 'type', 'properties', 'policy'].includes(key)) {
        throw new ConfigError(key, fields[key], 'is not a field of a resource (name, type, properties, policy)', {
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
    const policy = resolvePolicy([own, this.typeDefaults.get(typeName), this.defaults], context);
    let properties: unknown = fields.properties ?? {};
    if (binding.type.validate) {
      try {
        properties = binding.type.validate(properties);
      } catch (error) {
        throw new ConfigError('properties', fields.properties, `were rejected by type "${typeName}": ${reasonOf(error)}`, {
          context,
          cause: error,
        });
      }
    }
    binding.attach?.(name, policy);
    this.resources.set(name, new Resource(name, typeName, binding, properties, policy, this.env));
  }

  /** Terminates the resource if it is not offline, calls its type's `close`, and forgets it. */
  async removeResource(name: string): Promise<void> {
    if (this.delivering > 0) await this.settle();
    if (this.closed) throw new MonitorClosedError(`removeResource("${name}")`);
    const pending = this.removing.get(name);
    if (pending) return pending;
    const resource = this.get(name);
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
   * Brings a resource online. Resolves once it is online; rejects with the cause if this
   * attempt failed (the plugin's own Error, a non-Error wrapped in `ResmonError`, a
   * `CallTimeoutError`), or with `StateError` when `offline()`, `terminate()` or `close()`
   * abandoned the attempt. Concurrent calls share one attempt.
   */
  async online(name: string): Promise<void> {
    if (this.delivering > 0) await this.settle();
    return this.live(name, 'online').online();
  }

  /** Takes a resource offline gracefully. Concurrent calls share one offline. */
  async offline(name: string): Promise<void> {
    if (this.delivering > 0) await this.settle();
    return this.live(name, 'offline').offline();
  }

  /**
   * The hard stop: cancels any restart, abandons what runs, calls the type's terminate. Ends
   * offline. Also works while `close()` is in progress, to cut a slow graceful shutdown short
   * (a second Ctrl-C); after `close()` has finished it rejects with `MonitorClosedError`.
   */
  async terminate(name: string): Promise<void> {
    if (this.delivering > 0) await this.settle();
    if (this.closed) throw new MonitorClosedError(`terminate("${name}")`);
    const resource = this.get(name);
    if (this.removing.has(name)) throw new StateError(name, 'terminate() refused: the resource is being removed');
    return resource.terminate();
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
   * timer, listener and lock. Idempotent: later calls return the same promise. Afterwards the
   * read-only calls (`getState`, `inspect`, `snapshot`) answer with each resource's final state,
   * and every other operation throws (or rejects with) `MonitorClosedError`.
   */
  close(): Promise<void> {
    // From a listener: refuse new operations at once, start closing a microtask later.
    const settling = this.settle();
    this.closing ??= (async () => {
      if (settling) await settling;
      await Promise.all(Array.from(this.resources.values(), (r) => r.dispose(true, 'monitor closed')));
      await Promise.all(Array.from(this.removing.values(), (task) => task.catch(() => {})));
      this.final = new Map(Array.from(this.resources.values(), (r) => [r.name, r.inspect()] as const));
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

  private finalOf(name: string): ResourceStatus {
    const status = this.final?.get(name);
    if (!status) throw new UnknownResourceError(String(name));
    return status;
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
