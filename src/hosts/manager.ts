import { abortable } from '../abort.js';
import type { Clock } from '../clock.js';
import { CallTimeoutError, ConfigError, isCallTimeoutError, MonitorClosedError, reasonOf, ResmonError } from '../errors.js';
import type { HostExitEvent } from '../events.js';
import { type Logger, silentLogger, tagged } from '../logger.js';
import { type ResourcePolicy, validatePolicy } from '../policy.js';
import type { EntryPoint, ResourceContext, ResourceType, TypeBinding, TypeControlContext } from '../types.js';
import { Host, type HostEnd, type HostEnv } from './host.js';
import { type CallArgs, decodeAnswer, decodeValue, encodeError, type HostMessage, type MonitorMessage, type TypeInfo } from './protocol.js';
import { hostedProxy } from './proxy.js';
import type { CheckedSpec } from './spec.js';
import type { ExitInfo, TransportOptions } from './transport.js';

/** What the host manager needs from its monitor. */
export interface HostManagerEnv {
  readonly logger: Logger;
  /** The monitor's clock: it times loading a type module, validating properties, and `hostExit`'s `at`. */
  readonly clock: Clock;
  /** Emits `hostExit`. */
  emitHostExit(event: HostExitEvent): void;
}

/** How long registration waits for a host to load a type module. */
export const LOAD_TIMEOUT_MS = 30_000;

/** How long setProperties waits for a host to validate new properties. */
export const VALIDATE_TIMEOUT_MS = 30_000;

/** Entry points bounded by `deadlockTimeout`: passing it means the host may be stuck, so it is killed. */
const DEADLOCK_BOUND = new Set<EntryPoint>(['open', 'terminate', 'looksAlive', 'isAlive', 'close']);

/** Entry points that only stop or release what `open` and `online` made in the host. */
const STOPS = new Set<EntryPoint>(['offline', 'terminate', 'close']);

interface HostedType {
  readonly id: number;
  readonly spec: CheckedSpec;
  readonly kind: 'worker' | 'process';
  /** Types with equal keys may share a host. */
  readonly hostKey: string;
  readonly options: TransportOptions;
  readonly info: TypeInfo;
}

/** The resources that share hosts: one host at a time (a new one after each death). */
interface Group {
  readonly key: string;
  readonly kind: 'worker' | 'process';
  readonly options: TransportOptions;
  host: Host | null;
  readonly slots: Set<Slot>;
}

/** One hosted resource, as the manager tracks it. */
interface Slot {
  readonly name: string;
  readonly type: HostedType;
  group: Group;
  /** The id of the latest `online` call and its context: a late `reportFailure` goes there. */
  onlineCallId: number;
  onlineCtx: ResourceContext<unknown, unknown> | null;
  /** The tagged logger of each entry point (from the contexts the core built). */
  readonly logs: Partial<Record<EntryPoint, Logger>>;
  /** The properties the current host has for the resource (sent with `add`, or `props` since). */
  sentProps: unknown;
  /** Given at attach: fails the resource when its host dies (a no-op when it is not up). */
  readonly hostDied: (reason: string) => void;
}

/**
 * Runs hosted resource types (DESIGN §7): starts hosts on demand, places resources in them,
 * forwards calls, aborts, progress, failures and log lines, kills a host whose call passed
 * `deadlockTimeout` (moving that resource into a host of its own), and fails the resources of a
 * host that died. One manager per monitor.
 */
export class HostManager implements HostEnv {
  private typeSeq = 0;
  private hostSeq = 0;
  private callSeq = 0;
  private readonly groups = new Map<string, Group>();
  private readonly slots = new Map<string, Slot>();
  private readonly hosts = new Set<Host>();
  private closing: Promise<void> | null = null;
  /** Set at the start of close(): no host starts or is replaced any more. */
  private closed = false;

  constructor(private readonly env: HostManagerEnv) {}

  /**
   * Loads the type in a short-lived host of its kind (so a module that does not load, or does
   * not export a valid type, fails here) and returns its binding. No host is left running.
   */
  async register(spec: CheckedSpec): Promise<TypeBinding> {
    if (this.closed) throw new MonitorClosedError('registerType()');
    if (spec.isolation === 'inline') throw new Error('resmon: inline types are not hosted');
    const kind = spec.isolation;
    const options: TransportOptions = {
      log: this.env.logger !== silentLogger,
      resourceLimits: spec.resourceLimits,
      execArgv: spec.execArgv,
    };
    const id = ++this.typeSeq;
    const probe = this.newHost(kind, options);
    let info: TypeInfo;
    try {
      info = await abortable(probe.loadType(id, spec.module, spec.exportName), {
        timeoutMs: LOAD_TIMEOUT_MS,
        clock: this.env.clock,
        onTimeout: () => {
          void probe.kill({ kind: 'protocol', detail: `did not load the module within ${LOAD_TIMEOUT_MS} ms` });
          throw new Error(`the host did not load the module within ${LOAD_TIMEOUT_MS} ms`);
        },
      });
    } catch (error) {
      if (this.closed) throw new MonitorClosedError('registerType()');
      const end = probe.end;
      const exit = probe.exit;
      const why =
        end?.kind === 'fatal'
          ? reasonOf(end.error)
          : end?.kind === 'protocol'
            ? end.detail
            : exit
              ? `${describeExit(exit)}${exit.error ? `: ${reasonOf(exit.error)}` : ''}`
              : reasonOf(error).replace(/^registerType\(\): /, '');
      throw new ConfigError('module', spec.module, `could not be loaded as a resource type in a ${kind} host: ${why}`, {
        context: 'registerType()',
        cause: error,
      });
    } finally {
      await probe.kill({ kind: 'stop' }, false);
    }
    if (this.closed) throw new MonitorClosedError('registerType()');
    validatePolicy(info.defaults, `registerType() type "${info.name}"`, 'type.defaults');
    const hostKey = `${kind}|${JSON.stringify(spec.resourceLimits ?? {})}|${JSON.stringify(spec.execArgv)}`;
    const hosted: HostedType = { id, spec, kind, hostKey, options, info };
    const type = hostedProxy(
      info,
      (ctx, entryPoint, args) => this.call(ctx, entryPoint, args),
      (code, input, ctx) => this.typeCall(hosted, code, input, ctx),
    );
    return {
      type: type as ResourceType<unknown, unknown>,
      hostOf: (resource) => this.slots.get(resource)?.group.host?.name ?? null,
      ready: (resource) => this.readyFor(resource),
      attach: (resource, policy, hostDied) => this.attach(hosted, resource, policy, hostDied),
      detach: (resource) => this.detach(resource),
      dispose: () => this.close(),
      validate: (resource, properties) => this.validate(resource, properties),
    };
  }

  /** Ends every host (planned: no hostExit, nothing failed) and waits until all have exited. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      const hosts = [...this.hosts];
      await Promise.all(hosts.map((host) => host.kill({ kind: 'stop' }, false)));
      this.groups.clear();
      this.slots.clear();
    })();
    return this.closing;
  }

  // ---- placement -------------------------------------------------------------------------------

  private attach(type: HostedType, resource: string, policy: ResourcePolicy, hostDied: (reason: string) => void): void {
    const group = policy.separateMonitor ? this.ownGroup(type, resource) : this.sharedGroup(type);
    const slot: Slot = { name: resource, type, group, onlineCallId: Number.POSITIVE_INFINITY, onlineCtx: null, logs: {}, sentProps: undefined, hostDied };
    group.slots.add(slot);
    group.host ??= this.newHost(group.kind, group.options);
    // Start it now: the first call's deadline should not pay for the host's start-up.
    group.host.warm();
    this.slots.set(resource, slot);
  }

  private async detach(resource: string): Promise<void> {
    const slot = this.slots.get(resource);
    if (!slot) return;
    this.slots.delete(resource);
    const group = slot.group;
    group.slots.delete(slot);
    const host = group.host;
    host?.remove(resource);
    if (group.slots.size === 0) {
      this.groups.delete(group.key);
      group.host = null;
      // The last resource of the host is gone: stop it.
      if (host) await host.kill({ kind: 'stop' }, false);
    }
  }

  private sharedGroup(type: HostedType): Group {
    let group = this.groups.get(type.hostKey);
    if (!group) {
      group = { key: type.hostKey, kind: type.kind, options: type.options, host: null, slots: new Set() };
      this.groups.set(group.key, group);
    }
    return group;
  }

  private ownGroup(type: HostedType, resource: string): Group {
    const group: Group = { key: `own|${resource}|${++this.hostSeq}`, kind: type.kind, options: type.options, host: null, slots: new Set() };
    this.groups.set(group.key, group);
    return group;
  }

  private newHost(kind: 'worker' | 'process', options: TransportOptions): Host {
    const host = new Host(`${kind}-${++this.hostSeq}`, kind, options, this);
    this.hosts.add(host);
    return host;
  }

  /**
   * Settles once the resource's host is started and has loaded its type (the monitor awaits it
   * before an attempt's first call, outside any deadline); null when there is nothing to wait for.
   */
  private readyFor(resource: string): Promise<void> | null {
    const slot = this.slots.get(resource);
    if (!slot || this.closed) return null;
    const group = slot.group;
    const host = (group.host ??= this.newHost(group.kind, group.options));
    if (!host.usable) return null;
    return host.ensureType(slot.type.id, slot.type.spec.module, slot.type.spec.exportName);
  }

  /** The group's host, a new one if it has none; the resource placed in it. */
  private hostFor(slot: Slot, properties: unknown): Host {
    const group = slot.group;
    let host = group.host;
    if (!host) {
      host = this.newHost(group.kind, group.options);
      group.host = host;
    }
    if (!host.holds(slot.name)) {
      const { id, spec } = slot.type;
      host.place(slot.name, id, spec.module, spec.exportName, properties);
      slot.sentProps = properties;
    } else if (slot.sentProps !== properties) {
      // setProperties changed the properties in force: the host gets them before this call.
      host.setProperties(slot.name, properties);
      slot.sentProps = properties;
    }
    return host;
  }

  // ---- calls -----------------------------------------------------------------------------------

  /** Calls an entry point in the resource's host; settles with its answer, or rejects when the host dies. */
  private call(ctx: ResourceContext<unknown, unknown>, entryPoint: EntryPoint, args?: CallArgs): Promise<unknown> {
    const slot = this.slots.get(ctx.resource);
    if (!slot) return Promise.reject(new ResmonError(`resource "${ctx.resource}" is not placed in any host`));
    if (this.closed) return Promise.reject(new MonitorClosedError(`${entryPoint}("${ctx.resource}")`));
    slot.logs[entryPoint] = ctx.log;
    if (slot.type.info.has.open && STOPS.has(entryPoint) && !slot.group.host?.holds(slot.name)) {
      // Not opened in the current host (its handle died with an earlier one): nothing to stop
      // or close there, and no reason to start a host for it.
      return Promise.resolve(undefined);
    }
    const host = this.hostFor(slot, ctx.properties);
    const id = ++this.callSeq;
    if (entryPoint === 'online') {
      slot.onlineCallId = id;
      slot.onlineCtx = ctx;
    }
    return new Promise<unknown>((resolve, reject) => {
      const signal = ctx.signal;
      const onAbort = () => {
        const reason: unknown = signal.reason;
        host.abort(id, reason);
        if (isCallTimeoutError(reason) && DEADLOCK_BOUND.has(entryPoint)) this.deadlock(host, slot, entryPoint, reason.timeoutMs);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const call = {
        id,
        resource: slot.name,
        entryPoint,
        ctx,
        settle: (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
          signal.removeEventListener('abort', onAbort);
          if (outcome.ok) resolve(entryPoint === 'control' ? decodeAnswer(outcome.value) : decodeValue(outcome.value));
          else reject(decodeValue(outcome.error));
        },
      };
      const message: MonitorMessage = args === undefined ? { t: 'call', id, resource: slot.name, entryPoint } : { t: 'call', id, resource: slot.name, entryPoint, args };
      // ctx.fencingToken (resmon/cluster) crosses to the host with each call.
      if (ctx.fencingToken !== undefined) message.fencingToken = ctx.fencingToken;
      host.call(call, message);
    });
  }

  /**
   * Runs the type's validate on new properties in the resource's host (setProperties); rejects
   * with its ConfigError, or when the host dies or does not answer within VALIDATE_TIMEOUT_MS.
   */
  private validate(resource: string, properties: unknown): Promise<void> {
    const slot = this.slots.get(resource);
    if (!slot) return Promise.reject(new ResmonError(`resource "${resource}" is not placed in any host`));
    if (this.closed) return Promise.reject(new MonitorClosedError(`setProperties("${resource}")`));
    const group = slot.group;
    const host = (group.host ??= this.newHost(group.kind, group.options));
    const { id: typeId, spec } = slot.type;
    void host.ensureType(typeId, spec.module, spec.exportName);
    return this.request(host, 'validate', (id) => ({ t: 'validate', id, typeId, properties }), null, VALIDATE_TIMEOUT_MS).then(() => {});
  }

  /**
   * Runs the type's typeControl in a host of the type (the one its shared resources use, started
   * for the call if need be, and stopped after it when no resource uses it).
   */
  private async typeCall(type: HostedType, code: string, input: unknown, ctx: TypeControlContext): Promise<unknown> {
    if (this.closed) throw new MonitorClosedError(`controlType("${type.info.name}")`);
    try {
      structuredClone(input);
    } catch (error) {
      throw new ConfigError('input', input, `must be structured-cloneable to reach a ${type.kind} host (${reasonOf(error)})`, {
        context: `controlType("${type.info.name}")`,
      });
    }
    const group = this.sharedGroup(type);
    const host = (group.host ??= this.newHost(group.kind, group.options));
    void host.ensureType(type.id, type.spec.module, type.spec.exportName);
    try {
      return decodeAnswer(await this.request(host, 'typeControl', (id) => ({ t: 'typeCall', id, typeId: type.id, code, input }), ctx.signal, null));
    } finally {
      if (group.slots.size === 0 && group.host === host && this.groups.get(group.key) === group) {
        this.groups.delete(group.key);
        group.host = null;
        void host.kill({ kind: 'stop' }, false);
      }
    }
  }

  /**
   * Sends a request that is not a resource's call and settles with its raw answer. `signal`'s
   * abort is forwarded to the host (the request still waits for its answer); past `timeoutMs` it
   * rejects, and the entry stays pending (a late answer is not a protocol violation).
   */
  private request(
    host: Host,
    entryPoint: 'validate' | 'typeControl',
    message: (id: number) => MonitorMessage,
    signal: AbortSignal | null,
    timeoutMs: number | null,
  ): Promise<unknown> {
    const id = ++this.callSeq;
    const onAbort = () => host.abort(id, signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const answer = new Promise<unknown>((resolve, reject) => {
      const settle = (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
        if (outcome.ok) resolve(outcome.value);
        else reject(decodeValue(outcome.error));
      };
      host.call({ id, resource: '', entryPoint, ctx: null, settle }, message(id));
    });
    return abortable(answer, {
      timeoutMs: timeoutMs ?? Number.POSITIVE_INFINITY,
      clock: this.env.clock,
      onTimeout: () => {
        throw new CallTimeoutError(`host ${host.name} did not answer ${entryPoint} within ${timeoutMs} ms`, timeoutMs as number);
      },
    }).finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /**
   * A call passed `deadlockTimeout`: the plugin may be stuck in synchronous code, which only
   * ending the host stops. Kill it, and give the resource a host of its own from now on.
   */
  private deadlock(host: Host, slot: Slot, entryPoint: EntryPoint, timeoutMs: number): void {
    if (!host.usable) return;
    this.env.logger.error(
      { resource: slot.name, host: host.name, entryPoint },
      `${entryPoint} of "${slot.name}" passed deadlockTimeout (${timeoutMs} ms): killing host ${host.name}`,
    );
    if (slot.group.slots.size > 1 || slot.group.key === slot.type.hostKey) {
      slot.group.slots.delete(slot);
      if (slot.group.slots.size === 0) this.groups.delete(slot.group.key);
      slot.group = this.ownGroup(slot.type, slot.name);
      slot.group.slots.add(slot);
      slot.group.host = this.newHost(slot.group.kind, slot.group.options);
      slot.group.host.warm();
    }
    void host.kill({ kind: 'deadlock', resource: slot.name, entryPoint, timeoutMs });
  }

  // ---- what hosts report -----------------------------------------------------------------------

  /** @internal */
  onFailure(host: Host, m: Extract<HostMessage, { t: 'failure' }>): void {
    const pending = host.pendingCall(m.id);
    let ctx = pending?.ctx ?? null;
    if (!ctx) {
      // A report after its call returned (typically from the online context, kept by the plugin).
      const slot = this.slots.get(m.resource);
      if (slot && host.holds(m.resource) && m.id >= slot.onlineCallId) ctx = slot.onlineCtx;
    }
    if (!ctx) {
      this.env.logger.debug({ resource: m.resource, host: host.name }, 'ignored reportFailure from an earlier generation');
      return;
    }
    if ('reason' in m) ctx.reportFailure(decodeValue(m.reason));
    else ctx.reportFailure();
  }

  /** @internal */
  onLog(host: Host, m: Extract<HostMessage, { t: 'log' }>): void {
    if (m.resource === '' && m.entryPoint === 'typeControl') {
      this.env.logger[m.level]({ host: host.name, entryPoint: m.entryPoint }, ...m.args);
      return;
    }
    const slot = this.slots.get(m.resource);
    if (!slot || !host.holds(m.resource)) return;
    const log = (slot.logs[m.entryPoint] ??= tagged(this.env.logger, { resource: m.resource, entryPoint: m.entryPoint }));
    log[m.level](...m.args);
  }

  /** @internal */
  onExit(host: Host, info: ExitInfo): void {
    this.hosts.delete(host);
    const members = host.members();
    const end = host.end;
    const planned = end?.kind === 'stop' || !host.started;
    // Its groups get a new host.
    for (const group of this.groups.values()) {
      if (group.host !== host) continue;
      group.host = group.slots.size > 0 && !this.closed ? this.newHost(group.kind, group.options) : null;
      // Its resources are about to be restarted: have the host ready for them. (Not for a host
      // that died unused: a host that cannot start would be started again and again.)
      if (!planned && members.length > 0) group.host?.warm();
    }
    const why = `host ${host.name} ${describeEnd(end, info)}`;
    const pending = host.takePending();
    if (!planned && members.length > 0) {
      this.env.logger.error({ host: host.name, resources: members }, why);
      this.env.emitHostExit({
        resource: end?.kind === 'deadlock' ? end.resource : (members[0] ?? ''),
        at: this.env.clock.now(),
        host: host.name,
        code: info.code,
        signal: info.signal,
        resources: members,
        reason: why,
      });
      // Fail every resource that was in it. One whose online (or open) was in flight fails by
      // that call's rejection below, so its online() rejects with the cause.
      const attempting = new Set(pending.filter((c) => c.entryPoint === 'online' || c.entryPoint === 'open').map((c) => c.resource));
      for (const name of members) if (!attempting.has(name)) this.slots.get(name)?.hostDied(why);
    }
    if (!planned && members.length === 0) this.env.logger.warn({ host: host.name }, `${why} (no resource was in it yet)`);
    const error = new ResmonError(why);
    for (const call of pending) call.settle({ ok: false, error: encodeError(error) });
  }
}

function describeExit(info: ExitInfo): string {
  return info.signal ? `exited on ${info.signal}` : `exited with code ${info.code}`;
}

function describeEnd(end: HostEnd | null, info: ExitInfo): string {
  switch (end?.kind) {
    case 'deadlock':
      return `was killed: ${end.entryPoint} of "${end.resource}" passed deadlockTimeout (${end.timeoutMs} ms)`;
    case 'protocol':
      return `was killed: it broke the host protocol (${end.detail})`;
    case 'fatal':
      return `died: ${reasonOf(end.error)}`;
    case 'stop':
      return 'was stopped';
    default:
      return `died: it ${describeExit(info)}${info.error ? ` (${reasonOf(info.error)})` : ''}`;
  }
}
