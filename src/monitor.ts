import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock } from './clock.js';
import {
  ConfigError,
  DuplicateError,
  MonitorClosedError,
  StateError,
  UnknownResourceError,
  UnknownTypeError,
} from './errors.js';
import { eventChannel } from './diagnostics.js';
import type { ResourceMonitorEvents } from './events.js';
import { type Logger, silentLogger } from './logger.js';
import { type ResourcePolicy, resolvePolicy, validatePolicy } from './policy.js';
import { HostManager } from './hosts/manager.js';
import { checkSpec, type HostedTypeSpec, isHostedTypeSpec } from './hosts/spec.js';
import { loadTypeExport } from './hosts/load.js';
import { Resource, type ResourceEnv, type TypeBinding } from './resource.js';
import type { ResourceSpec, ResourceState, ResourceStatus, ResourceType } from './types.js';
import { validateResourceType } from './validate.js';

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
      // Payloads are built only when someone listens: a monitor.on() listener, or a subscriber
      // of the event's diagnostics channel (hasSubscribers is a field read: free otherwise).
      wants: (event) => this.listenerCount(event) > 0 || eventChannel(event).hasSubscribers,
      emit: (event, payload) => {
        const channel = eventChannel(event);
        // A throwing subscriber does not reach us: diagnostics_channel reports it as an
        // uncaught exception on the next tick.
        if (channel.hasSubscribers) channel.publish(payload);
        try {
          (this.emit as (e: string, p: unknown) => boolean)(event, payload);
        } catch (error) {
          logger.error({ err: error, event }, `a "${event}" listener threw; the monitor carries on`);
        }
      },
    };
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
   * type's `validate`) and the resolved policy; nothing starts when any is wrong.
   */
  addResource(spec: ResourceSpec): void {
    this.assertOpen('addResource()');
    if (typeof spec !== 'object' || spec === null) {
      throw new ConfigError('spec', spec, 'must be an object { name, type, properties?, policy? }', { context: 'addResource()' });
    }
    const { name, type: typeName } = spec;
    for (const key of Object.keys(spec)) {
      if (!['name', 'type', 'properties', 'policy'].includes(key)) {
        throw new ConfigError(key, (spec as unknown as Record<string, unknown>)[key], 'is not a field of a resource (name, type, properties, policy)', {
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
    binding.attach?.(name, policy);
    this.resources.set(name, new Resource(name, typeName, binding, properties, policy, this.env));
  }

  /** Terminates the resource if it is not offline, calls its type's `close`, and forgets it. */
  async removeResource(name: string): Promise<void> {
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
    return this.live(name, 'online').online();
  }

  /** Takes a resource offline gracefully. Concurrent calls share one offline. */
  async offline(name: string): Promise<void> {
    return this.live(name, 'offline').offline();
  }

  /**
   * The hard stop: cancels any restart, abandons what runs, calls the type's terminate. Ends
   * offline. Also works while `close()` is in progress, to cut a slow graceful shutdown short
   * (a second Ctrl-C); after `close()` has finished it rejects with `MonitorClosedError`.
   */
  async terminate(name: string): Promise<void> {
    if (this.closed) throw new MonitorClosedError(`terminate("${name}")`);
    const resource = this.get(name);
    if (this.removing.has(name)) throw new StateError(name, 'terminate() refused: the resource is being removed');
    return resource.terminate();
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
      await Promise.all(Array.from(this.resources.values(), (r) => r.dispose(true, 'monitor closed')));
      await Promise.all(Array.from(this.removing.values(), (task) => task.catch(() => {})));
      this.closed = true;
      this.resources.clear();
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
