import { EventEmitter } from 'eventemitter3';
import { after, type Clock, systemClock, type Timer } from '../clock.js';
import { ConfigError, reasonOf, StateError } from '../errors.js';
import type { EscalatedEvent } from '../events.js';
import { type Logger, silentLogger } from '../logger.js';
import type { ResourceMonitor } from '../monitor.js';
import { LEASE_STORE_METHODS, type LeaseChange, type LeaseStore } from './store.js';

/** Options of {@link ClusterMember}. */
export interface ClusterMemberOptions {
  /** This member's node name, unique in the cluster (a host name). */
  node: string;
  /** The lease store all members share: `etcdLeases`, `postgresLeases` or `memoryLeases`. `stop()` closes it. */
  leases: LeaseStore;
  /**
   * Lease length in milliseconds. The owner renews every `ttl / 3`. A dead owner's lease runs out
   * at most `ttl` after it died, and the next member takes the unit at that moment (the store
   * announces the end, or the members wake at the expiry the store told them).
   */
  ttl: number;
  /**
   * How long before its lease would expire (on its own clock) an owner that could not renew
   * terminates its units. It must cover the terminate calls and the difference in clock rates
   * between this machine and the store over one `ttl`. Must be > 0 and < `2 * ttl / 3`.
   * @default ttl / 4
   */
  safetyMargin?: number;
  /**
   * Per unit (a group name, or an ungrouped resource's name), the nodes that should own it, most
   * preferred first. When a unit's lease ends, the live member next in this list after the node
   * that held it takes it at once; each live node ahead of a member in the list (the former holder
   * left out) makes it wait `preferenceDelay` more, so a live preferred member gets it first.
   * Live: its heartbeat in the store has not expired (it lasts `ttl`, renewed every `ttl / 3`).
   * Nodes not listed come after the listed ones; units not listed: every member tries at once and
   * the store grants one. A key must name a group or an ungrouped resource of the monitor (ConfigError
   * otherwise: a grouped resource moves with its group).
   * @example { web: ['node-a', 'node-b'] }
   */
  preferredNodes?: Record<string, readonly string[]>;
  /**
   * How long a member waits, per preferred node ahead of it, after it learns that a unit's lease
   * ended, before it tries to take the unit. It must exceed the time the store takes to tell
   * every member and grant the unit once (a few milliseconds on a LAN).
   * @default ttl / 10
   */
  preferenceDelay?: number;
  /**
   * How many times a unit may fail over (its owner releases it after it escalated) within
   * `failoverPeriod`, counted for the whole cluster in the lease store. Beyond that its owner keeps
   * it, and the monitor's `retryPeriodOnFailure` retries it there. 0 never fails over. An integer >= 0.
   * @default the number of live members - 1, as Windows clusters (1 with a store without heartbeats)
   */
  failoverThreshold?: number;
  /**
   * Failback: when a node that ranks before this owner in a unit's `preferredNodes` joins the
   * cluster (its heartbeat appears) and stays live for `failbackDelay` ms, the owner takes the
   * unit offline and releases it to that node, once per join (a unit that failed over away from a
   * live node is not moved back). Not set: no failback, as Windows clusters by default, since
   * moving a running unit is a second outage. Needs a store with heartbeats.
   * @example failbackDelay: 60_000 // give units back to their preferred node a minute after it returns
   */
  failbackDelay?: number;
  /**
   * The sliding window, in milliseconds, that counts failovers.
   * @default 21_600_000 (6 hours, as WSFC)
   */
  failoverPeriod?: number;
  /**
   * Where the member reads time and arms its renew and safety timers.
   * @default systemClock (`vi.useFakeTimers()` drives it)
   */
  clock?: Clock;
  /** pino-style logger. @default silent */
  logger?: Logger;
}

/** What every member event carries. */
export interface ClusterEvent {
  /** The unit: a group name, or an ungrouped resource's name. */
  unit: string;
  /** This member's node name. */
  node: string;
  /** The lease's fencing token. */
  token: number;
  /** Clock time. */
  at: number;
}

/** An event that says why. */
export interface ClusterReasonEvent extends ClusterEvent {
  /** Why, in words: `stop() called`, the escalation, the failback, the lost renewal. */
  reason: string;
}

/** The events of a {@link ClusterMember}. */
export interface ClusterMemberEvents {
  /** This member acquired a unit's lease; it brings the unit online next (unless the unit was taken offline cluster-wide). */
  acquired: (event: ClusterEvent) => void;
  /** This member took a unit offline and released its lease: stop(), a failover, or a failback (`reason` says which). */
  released: (event: ClusterReasonEvent) => void;
  /** This member lost a unit's lease (the store refused a renewal, or none succeeded in time) and terminated the unit. */
  lost: (event: ClusterReasonEvent) => void;
  /** A unit this member owned escalated; the member took it offline and released it for another member. */
  failover: (event: ClusterReasonEvent) => void;
}

/** One unit in {@link ClusterStatus}. */
export interface ClusterUnitStatus {
  /** The unit: a group name, or an ungrouped resource's name. */
  unit: string;
  /** The owner as this member last saw it (itself when it owns the unit), or null when free or not yet seen. */
  owner: string | null;
  /** The owner's fencing token, or null. */
  token: number | null;
  /** This member owns it. */
  owned: boolean;
  /** This member owns it and keeps it offline: it was taken offline cluster-wide (`offline()`, `resmon offline`). */
  offline: boolean;
}

/** What `status()` returns. */
export interface ClusterStatus {
  /** This member's node name. */
  node: string;
  /** The live members as this member last read them from the store (their heartbeats), or null when the store keeps none. */
  members: string[] | null;
  /** Between start() and stop(). */
  running: boolean;
  units: ClusterUnitStatus[];
}

interface Unit {
  name: string;
  group: boolean;
  owned: { token: number; safety: Timer } | null;
  /** The owner keeps the unit offline (the store's offline flag, as this owner set or read it). */
  offline: boolean;
  /** An acquire, online, offline or release is in progress. */
  busy: boolean;
  /** Resolved when `busy` clears. */
  waiters: (() => void)[];
  renewing: boolean;
  seen: { node: string; token: number } | null;
  /** The node that held the lease last as far as this member knows (itself after it gave it up). */
  lastHolder: string | null;
  /** The store reported a change while the unit was busy: look again once it is not. */
  dirty: boolean;
  /** An escalation that came while the unit was busy (its online in progress). */
  escalation: EscalatedEvent | null;
  freeSince: number | null;
  avoidUntil: number;
  /** When to look at the unit again (its lease's expiry, or the end of a preference wait). */
  wake: Timer | null;
}

const OPTION_KEYS = new Set(['node', 'leases', 'ttl', 'safetyMargin', 'preferredNodes', 'preferenceDelay', 'failoverThreshold', 'failoverPeriod', 'failbackDelay', 'clock', 'logger']);

/**
 * One machine's membership in a cluster of monitors that share units through leases: each unit
 * (a group, or an ungrouped resource) is online on at most one member at a time. The member
 * competes for every unit of its monitor, brings the units it acquires online (each resource's
 * `ctx.fencingToken` set to the lease's token), renews their leases every `ttl / 3`, terminates
 * them if it cannot renew in time, and releases a unit for another member when it escalates.
 *
 * Every member must have the same resources and groups added to its monitor (before the member
 * is created); the member brings them online and offline itself: do not call the monitor's
 * `online()`/`offline()` for them, call the member's {@link ClusterMember.online},
 * {@link ClusterMember.offline} and {@link ClusterMember.terminate}, which act cluster-wide.
 *
 * @example
 * ```ts
 * const member = new ClusterMember(monitor, { node: 'node-a', leases: etcdLeases({ hosts: '127.0.0.1:2379' }), ttl: 10_000 });
 * member.on('acquired', (e) => console.log(`${e.unit} is mine (token ${e.token})`));
 * await member.start();
 * // ...
 * await member.stop();
 * ```
 */
export class ClusterMember extends EventEmitter<ClusterMemberEvents> {
  readonly node: string;
  private readonly monitor: ResourceMonitor;
  private readonly store: LeaseStore;
  private readonly ttl: number;
  private readonly safetyMargin: number;
  private readonly preferred: Record<string, readonly string[]>;
  private readonly preferenceDelay: number;
  /** null: the live members - 1. */
  private readonly failoverThreshold: number | null;
  /** The live members (heartbeats) as last read, or null (not read yet, or a store without heartbeats). */
  private live: Set<string> | null = null;
  private readonly failbackDelay: number | null;
  /** Nodes seen joining (absent at one read, present at the next) since this member started: when; and the units already given back for that join. */
  private readonly joined = new Map<string, { at: number; done: Set<string> }>();
  private readonly failoverPeriod: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly units = new Map<string, Unit>();
  /** Between start() and stop(): competes for units. */
  private running = false;
  /** The renew rounds go on (also while stop() takes units offline). */
  private ticking = false;
  private stopping: Promise<void> | null = null;
  private ticker: Timer | null = null;
  private unwatch: (() => void) | null = null;
  private readonly inflight = new Set<Promise<void>>();
  private readonly onEscalated = (e: EscalatedEvent) => this.escalated(e);

  constructor(monitor: ResourceMonitor, options: ClusterMemberOptions) {
    super();
    const context = 'new ClusterMember()';
    if (typeof monitor !== 'object' || monitor === null || typeof (monitor as ResourceMonitor).snapshot !== 'function') {
      throw new ConfigError('monitor', monitor, 'must be a ResourceMonitor', { context });
    }
    if (typeof options !== 'object' || options === null) throw new ConfigError('options', options, 'must be an object', { context });
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) throw new ConfigError(`options.${key}`, (options as never)[key], `is not an option (known: ${[...OPTION_KEYS].join(', ')})`, { context });
    }
    const { node, leases, ttl } = options;
    if (typeof node !== 'string' || node.length === 0) throw new ConfigError('node', node, 'must be a non-empty string', { context });
    if (typeof leases !== 'object' || leases === null || LEASE_STORE_METHODS.some((m) => typeof (leases as never)[m] !== 'function')) {
      throw new ConfigError('leases', leases, `must be a lease store (etcdLeases(), postgresLeases() or memoryLeases(); methods ${LEASE_STORE_METHODS.join(', ')})`, { context });
    }
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 30) throw new ConfigError('ttl', ttl, 'must be a finite number >= 30 (milliseconds)', { context });
    const safetyMargin = options.safetyMargin ?? ttl / 4;
    if (typeof safetyMargin !== 'number' || !Number.isFinite(safetyMargin) || safetyMargin <= 0 || safetyMargin >= (2 * ttl) / 3) {
      throw new ConfigError('safetyMargin', safetyMargin, `must be > 0 and < 2 * ttl / 3 (${(2 * ttl) / 3} ms), so that renewals at ttl / 3 get a chance first`, { context });
    }
    const preferred = options.preferredNodes ?? {};
    if (typeof preferred !== 'object' || preferred === null || Array.isArray(preferred)) {
      throw new ConfigError('preferredNodes', preferred, 'must be an object { unit: [node, ...] }', { context });
    }
    const preferredError = checkPreferredUnits(Object.keys(preferred), monitor);
    if (preferredError) throw new ConfigError(`preferredNodes.${preferredError.key}`, preferred[preferredError.key], preferredError.rule, { context });
    for (const [unit, nodes] of Object.entries(preferred)) {
      if (!Array.isArray(nodes) || nodes.some((n) => typeof n !== 'string' || n.length === 0)) {
        throw new ConfigError(`preferredNodes.${unit}`, nodes, 'must be an array of node names', { context });
      }
    }
    const preferenceDelay = options.preferenceDelay ?? ttl / 10;
    if (typeof preferenceDelay !== 'number' || !Number.isFinite(preferenceDelay) || preferenceDelay < 0) {
      throw new ConfigError('preferenceDelay', preferenceDelay, 'must be a finite number >= 0 (milliseconds)', { context });
    }
    const failoverThreshold = options.failoverThreshold ?? null;
    if (failoverThreshold !== null && (typeof failoverThreshold !== 'number' || !Number.isInteger(failoverThreshold) || failoverThreshold < 0)) {
      throw new ConfigError('failoverThreshold', failoverThreshold, 'must be an integer >= 0', { context });
    }
    const failoverPeriod = options.failoverPeriod ?? 6 * 3_600_000;
    if (typeof failoverPeriod !== 'number' || !Number.isFinite(failoverPeriod) || failoverPeriod <= 0) {
      throw new ConfigError('failoverPeriod', failoverPeriod, 'must be a finite number > 0 (milliseconds)', { context });
    }
    const failbackDelay = options.failbackDelay ?? null;
    if (failbackDelay !== null && (typeof failbackDelay !== 'number' || !Number.isFinite(failbackDelay) || failbackDelay < 0)) {
      throw new ConfigError('failbackDelay', failbackDelay, 'must be a finite number >= 0 (milliseconds), or left out for no failback', { context });
    }
    const clock = options.clock ?? systemClock;
    if (typeof clock !== 'object' || clock === null || ['now', 'setTimeout', 'clearTimeout'].some((m) => typeof (clock as never)[m] !== 'function')) {
      throw new ConfigError('clock', clock, 'must be a Clock { now, setTimeout, clearTimeout }', { context });
    }
    this.monitor = monitor;
    this.node = node;
    this.store = leases;
    this.ttl = ttl;
    this.safetyMargin = safetyMargin;
    this.preferred = { ...preferred };
    this.preferenceDelay = preferenceDelay;
    this.failoverThreshold = failoverThreshold;
    this.failoverPeriod = failoverPeriod;
    this.failbackDelay = failbackDelay;
    this.clock = clock;
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Starts competing for the monitor's units: at once, then every `ttl / 3`, and whenever the
   * store reports that a lease ended (or at the expiry it announced). Resolves after the first round.
   */
  async start(): Promise<void> {
    if (this.stopping) throw new ConfigError('start()', undefined, 'cannot be called after stop()', { context: `ClusterMember "${this.node}"` });
    if (this.running) return;
    this.running = true;
    this.ticking = true;
    this.monitor.on('escalated', this.onEscalated);
    if (typeof this.store.watch === 'function') this.unwatch = this.store.watch((change) => this.changed(change));
    await this.presence();
    await this.tick();
  }

  /**
   * Stops competing, takes every unit it owns offline (gracefully), releases their leases, and
   * closes the lease store. A unit taken offline cluster-wide stays so for its next owner. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      this.monitor.off('escalated', this.onEscalated);
      this.unwatch?.();
      this.unwatch = null;
      for (const u of this.units.values()) this.cancelWake(u);
      // Units keep being renewed while they go offline; none is acquired any more.
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
      await Promise.allSettled(
        [...this.units.values()].filter((u) => u.owned).map((u) =>
          this.exclusive(u, async () => {
            if (!u.owned) return;
            const token = u.owned.token;
            await this.takeOffline(u, 'offline');
            if (u.owned?.token === token) await this.releaseLease(u, token, 'stop() called', 'released');
          }),
        ),
      );
      this.ticking = false;
      this.ticker?.cancel();
      this.ticker = null;
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
      for (const u of this.units.values()) this.cancelWake(u);
      try {
        await this.store.leave?.(this.node);
      } catch (error) {
        this.log.warn({ err: error }, `cluster ${this.node}: removing its heartbeat failed (it expires after ttl): ${reasonOf(error)}`);
      }
      try {
        await this.store.close();
      } catch (error) {
        this.log.warn({ err: error }, `cluster ${this.node}: closing the lease store failed: ${reasonOf(error)}`);
      }
    })();
    return this.stopping;
  }

  /** The units of the monitor, their owners as this member last saw them, and their tokens. */
  status(): ClusterStatus {
    this.refreshUnits();
    return {
      node: this.node,
      members: this.live ? [...this.live].sort() : null,
      running: this.running,
      units: [...this.units.values()].map((u) => ({
        unit: u.name,
        owner: u.owned ? this.node : (u.seen?.node ?? null),
        token: u.owned ? u.owned.token : (u.seen?.token ?? null),
        owned: u.owned !== null,
        offline: u.owned !== null && u.offline,
      })),
    };
  }

  /**
   * The unit a resource belongs to: its group, or itself when it has none.
   * @example member.unitOf('db') // 'web'
   */
  unitOf(resource: string): string {
    return this.monitor.inspect(resource).group ?? resource;
  }

  /**
   * Takes a unit offline cluster-wide, on the member that owns it: records the unit's offline flag
   * in the store, then takes its resources offline (a group top-down). The member keeps the lease,
   * so the unit stays offline everywhere (a member that takes it over later, after this one died
   * or stopped, keeps it offline) until {@link ClusterMember.online}. Rejects with a `StateError`
   * on a member that does not own the unit (it names the owner), or when the store cannot be reached.
   * @example await member.offline('web');
   */
  offline(unit: string): Promise<void> {
    return this.setTarget(unit, 'offline');
  }

  /** As {@link ClusterMember.offline}, but terminates the unit's resources (the hard stop). */
  terminate(unit: string): Promise<void> {
    return this.setTarget(unit, 'terminate');
  }

  /**
   * Brings a unit that was taken offline cluster-wide online again, on the member that owns it:
   * clears the store's offline flag, then brings it online (a group bottom-up). Rejects as
   * {@link ClusterMember.offline} does, or with the online's error (the restart policy then takes over).
   * @example await member.online('web');
   */
  online(unit: string): Promise<void> {
    return this.setTarget(unit, 'online');
  }

  private async setTarget(name: string, how: 'online' | 'offline' | 'terminate'): Promise<void> {
    this.refreshUnits();
    const u = this.units.get(name);
    if (!u) {
      const grouped = this.monitor.isClosed() ? null : this.monitor.snapshot().find((r) => r.name === name && r.group !== null);
      throw new StateError(name, grouped ? `is in group "${grouped.group}": under a cluster member the group moves as one unit; name "${grouped.group}"` : `is not a unit of this member (units: ${[...this.units.keys()].join(', ') || 'none'})`);
    }
    await this.exclusive(u, async () => {
      if (!u.owned) {
        // Ask the store: this member may not have looked yet (it has just started). Unreachable: what it saw last.
        const holder = await this.store.holder(u.name).then(
          (h) => (h === null ? null : { node: h.node, token: h.token }),
          () => u.seen,
        );
        const owner = holder ? `node "${holder.node}" owns it (token ${holder.token}): run it there` : 'no member owns it right now (it is being handed over): try again';
        throw new StateError(name, `${how} refused: this member (${this.node}) does not own the unit; ${owner}`);
      }
      const token = u.owned.token;
      const offline = how !== 'online';
      if (!(await this.store.setOffline(u.name, this.node, token, offline))) {
        throw new StateError(name, `${how} refused: the store no longer grants this member the unit's lease (token ${token})`);
      }
      u.offline = offline;
      if (offline) await this.takeOffline(u, how === 'terminate' ? 'terminate' : 'offline');
      else if (u.owned?.token === token) await (u.group ? this.monitor.onlineGroup(u.name) : this.monitor.online(u.name));
    });
  }

  /** The units: each group, and each ungrouped resource, of the monitor. */
  private refreshUnits(): void {
    if (this.monitor.isClosed()) return;
    const present = new Set<string>();
    for (const r of this.monitor.snapshot()) {
      const name = r.group ?? r.name;
      present.add(name);
      if (!this.units.has(name)) {
        this.units.set(name, {
          name, group: r.group !== null, owned: null, offline: false, busy: false, waiters: [], renewing: false, seen: null,
          lastHolder: null, dirty: false, escalation: null, freeSince: null, avoidUntil: 0, wake: null,
        });
      }
    }
    // A unit whose resources were all removed from the monitor: forget it, releasing its lease.
    for (const u of this.units.values()) {
      if (present.has(u.name) || u.busy) continue;
      this.units.delete(u.name);
      this.cancelWake(u);
      if (u.owned) this.track(this.releaseLease(u, u.owned.token, 'its resources were removed from the monitor', 'released'));
    }
  }

  private resourcesOf(u: Unit): string[] {
    if (this.monitor.isClosed()) return [];
    return u.group ? this.monitor.groupStatus(u.name).resources : [u.name];
  }

  private track(task: Promise<void>): void {
    const p = task.catch((error) => this.log.error({ err: error }, `cluster ${this.node}: ${reasonOf(error)}`)).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Runs `fn` with the unit marked busy, after whatever holds it now; then handles what came meanwhile. */
  private async exclusive<T>(u: Unit, fn: () => Promise<T>): Promise<T> {
    while (u.busy) await new Promise<void>((resolve) => u.waiters.push(resolve));
    u.busy = true;
    try {
      return await fn();
    } finally {
      u.busy = false;
      for (const resolve of u.waiters.splice(0)) resolve();
      this.afterBusy(u);
    }
  }

  private afterBusy(u: Unit): void {
    if (u.busy) return;
    const pending = u.escalation;
    u.escalation = null;
    if (pending) return this.escalated(pending);
    if (u.dirty && !u.owned && this.running) this.track(this.consider(u));
  }

  /** A change the store reported. */
  private changed(change: LeaseChange): void {
    const u = this.units.get(change.unit);
    if (!u || u.owned || !this.running) return;
    if (change.holder) {
      u.seen = { node: change.holder.node, token: change.holder.token };
      u.lastHolder = change.holder.node;
      u.freeSince = null;
      if (change.holder.expiresIn !== undefined) this.wakeIn(u, change.holder.expiresIn);
      return;
    }
    if (u.busy) {
      u.dirty = true;
      return;
    }
    this.track(this.consider(u));
  }

  private wakeIn(u: Unit, ms: number): void {
    this.cancelWake(u);
    u.wake = after(this.clock, Math.max(0, ms), () => {
      u.wake = null;
      if (u.owned || !this.running) return;
      if (u.busy) u.dirty = true;
      else this.track(this.consider(u));
    });
  }

  private cancelWake(u: Unit): void {
    u.wake?.cancel();
    u.wake = null;
  }

  /** Renews this member's heartbeat and reads the live members (stores that keep heartbeats). */
  private async presence(): Promise<void> {
    const { heartbeat, members } = this.store;
    if (typeof heartbeat !== 'function' || typeof members !== 'function' || !this.running) return;
    try {
      await heartbeat.call(this.store, this.node, this.ttl);
      const live = new Set(await members.call(this.store));
      live.add(this.node);
      const before = this.live;
      this.live = live;
      if (before) {
        for (const n of live) if (!before.has(n)) this.joined.set(n, { at: this.clock.now(), done: new Set() });
      }
      for (const n of this.joined.keys()) if (!live.has(n)) this.joined.delete(n);
    } catch (error) {
      // The renewals warn about an unreachable store already.
      this.log.debug({ err: error }, `cluster ${this.node}: heartbeat failed: ${reasonOf(error)}`);
    }
  }

  /**
   * With `failbackDelay`: gives each unit it owns (online, idle) to a node that ranks before it
   * in the unit's preferredNodes, joined the cluster and has been live for `failbackDelay` — the
   * most preferred such node — once per join.
   */
  private failback(): void {
    if (this.failbackDelay === null || !this.running || !this.live) return;
    const now = this.clock.now();
    for (const u of this.units.values()) {
      const list = this.preferred[u.name];
      if (!u.owned || u.busy || u.offline || !list) continue;
      const mine = list.indexOf(this.node);
      const ahead = (mine === -1 ? list : list.slice(0, mine)).filter((n) => this.live!.has(n));
      const target = ahead[0];
      const join = target === undefined ? undefined : this.joined.get(target);
      if (!join || join.done.has(u.name) || now - join.at < this.failbackDelay) continue;
      join.done.add(u.name);
      const token = u.owned.token;
      const reason = `failback to node "${target}", preferred for "${u.name}" and back since ${join.at}`;
      this.track(
        this.exclusive(u, async () => {
          if (u.owned?.token !== token || !this.running) return;
          await this.takeOffline(u, 'offline');
          // The preferred node takes it at once; this one stays out for a ttl.
          u.avoidUntil = this.clock.now() + this.ttl;
          await this.releaseLease(u, token, reason, 'released');
        }),
      );
    }
  }

  /** One round: renew what it owns, look at (and maybe acquire) what it does not. */
  private async tick(): Promise<void> {
    if (!this.ticking) return;
    this.ticker = after(this.clock, this.ttl / 3, () => void this.tick());
    this.refreshUnits();
    const round: Promise<void>[] = [];
    if (this.running) round.push(this.presence().then(() => this.failback()));
    for (const u of this.units.values()) {
      if (u.owned) {
        if (!u.renewing) round.push(this.renew(u));
      } else if (!u.busy && this.running) {
        round.push(this.consider(u));
      }
    }
    for (const p of round) this.track(p);
    await Promise.allSettled(round);
  }

  private async renew(u: Unit): Promise<void> {
    const token = u.owned!.token;
    const sent = this.clock.now();
    u.renewing = true;
    let ok: boolean;
    try {
      ok = await this.store.renew(u.name, this.node, token, this.ttl);
    } catch (error) {
      this.log.warn({ err: error }, `cluster ${this.node}: renewing "${u.name}" failed: ${reasonOf(error)}`);
      return;
    } finally {
      u.renewing = false;
    }
    if (u.owned?.token !== token) return;
    if (ok) this.armSafety(u, sent);
    else await this.lose(u, 'the store refused to renew the lease (it expired or another member holds it)');
  }

  /** The lease was taken or renewed at `sent` (this clock): terminate by `sent + ttl - safetyMargin` unless renewed again. */
  private armSafety(u: Unit, sent: number): void {
    const owned = u.owned!;
    owned.safety.cancel();
    const wait = sent + this.ttl - this.safetyMargin - this.clock.now();
    owned.safety = after(this.clock, wait, () => {
      if (u.owned === owned) this.track(this.lose(u, `no renewal succeeded within ttl - safetyMargin (${this.ttl - this.safetyMargin} ms)`));
    });
  }

  private async lose(u: Unit, reason: string): Promise<void> {
    const owned = u.owned!;
    owned.safety.cancel();
    u.owned = null;
    u.lastHolder = this.node;
    u.busy = true;
    try {
      await this.takeOffline(u, 'terminate');
      this.log.warn(`cluster ${this.node}: lost "${u.name}" (token ${owned.token}): ${reason}; terminated it`);
      this.emitEvent('lost', { unit: u.name, node: this.node, token: owned.token, at: this.clock.now(), reason });
      // The lease may still be ours at the store (a slow store): give it back early, by token.
      await this.store.release(u.name, this.node, owned.token).catch(() => {});
    } finally {
      u.busy = false;
      for (const resolve of u.waiters.splice(0)) resolve();
      this.afterBusy(u);
    }
  }

  /**
   * This member's place in the queue for a freed unit: its index in the unit's preferredNodes
   * with the node that held the unit last, and the nodes not alive, left out (so the next
   * preferred live node takes over at once); nodes not listed come after the listed ones; 0 for
   * every member when the unit is not listed.
   */
  private rank(u: Unit): number {
    const list = this.preferred[u.name];
    if (!list) return 0;
    const live = this.live;
    const candidates = list.filter((n) => n !== u.lastHolder && (n === this.node || live === null || live.has(n)));
    const i = candidates.indexOf(this.node);
    return i === -1 ? candidates.length : i;
  }

  private async consider(u: Unit): Promise<void> {
    if (u.busy) {
      u.dirty = true;
      return;
    }
    u.busy = true;
    u.dirty = false;
    try {
      const holder = await this.store.holder(u.name);
      if (holder) {
        u.seen = { node: holder.node, token: holder.token };
        u.lastHolder = holder.node;
        u.freeSince = null;
        // Wake when it runs out (unless the store announces that itself).
        if (holder.expiresIn !== undefined && this.running) this.wakeIn(u, holder.expiresIn);
        return;
      }
      u.seen = null;
      const now = this.clock.now();
      u.freeSince ??= now;
      const wait = Math.max(u.avoidUntil - now, u.freeSince + this.rank(u) * this.preferenceDelay - now);
      if (!this.running) return;
      if (wait > 0) {
        this.wakeIn(u, wait);
        return;
      }
      const sent = this.clock.now();
      const grant = await this.store.acquire(u.name, this.node, this.ttl);
      if (grant === null) {
        // Another member got it first: read who, and when it runs out.
        u.dirty = true;
        return;
      }
      const { token } = grant;
      this.cancelWake(u);
      u.freeSince = null;
      u.offline = grant.offline;
      u.owned = { token, safety: { cancel() {} } };
      this.armSafety(u, sent);
      if (!this.running || this.monitor.isClosed()) {
        u.owned.safety.cancel();
        u.owned = null;
        await this.store.release(u.name, this.node, token);
        return;
      }
      const resources = this.resourcesOf(u);
      for (const name of resources) this.monitor.setFencingToken(name, token);
      this.emitEvent('acquired', { unit: u.name, node: this.node, token, at: this.clock.now() });
      if (grant.offline) {
        this.log.info(`cluster ${this.node}: "${u.name}" was taken offline cluster-wide; holding it offline`);
        return;
      }
      const online = u.group ? this.monitor.onlineGroup(u.name) : this.monitor.online(u.name);
      // The restart policy takes it from here; an escalation fails the unit over.
      await online.catch((error) => this.log.warn({ err: error }, `cluster ${this.node}: "${u.name}" did not come online: ${reasonOf(error)}`));
    } finally {
      u.busy = false;
      for (const resolve of u.waiters.splice(0)) resolve();
      // Also after an early return: a change the store reported meanwhile is looked at now.
      this.afterBusy(u);
    }
  }

  private escalated(e: EscalatedEvent): void {
    const u = this.units.get(e.group ?? e.resource);
    if (!u?.owned || !this.running) return;
    if (u.busy) {
      u.escalation = e;
      return;
    }
    const token = u.owned.token;
    const reason = `resource "${e.resource}" escalated (${e.restarts} restarts in ${e.periodMs} ms)`;
    this.track(
      this.exclusive(u, async () => {
        if (u.owned?.token !== token || !this.running) return;
        let counted = false;
        const threshold = this.failoverThreshold ?? (this.live ? Math.max(0, this.live.size - 1) : 1);
        if (threshold > 0) {
          try {
            counted = await this.store.countFailover(u.name, this.node, token, threshold, this.failoverPeriod);
          } catch (error) {
            this.log.warn({ err: error }, `cluster ${this.node}: counting a failover of "${u.name}" failed (keeping it): ${reasonOf(error)}`);
            return;
          }
        }
        if (!counted) {
          this.log.warn(`cluster ${this.node}: "${u.name}" escalated; failoverThreshold (${threshold} per ${this.failoverPeriod} ms, cluster-wide) spent, keeping it`);
          return;
        }
        await this.takeOffline(u, 'offline');
        // Let another member take it first: this one waits a ttl before competing again.
        u.avoidUntil = this.clock.now() + this.ttl;
        this.emitEvent('failover', { unit: u.name, node: this.node, token, at: this.clock.now(), reason });
        await this.releaseLease(u, token, reason, 'released');
      }),
    );
  }

  /** Takes the unit's resources offline (or terminates them); never throws. */
  private async takeOffline(u: Unit, how: 'offline' | 'terminate'): Promise<void> {
    if (this.monitor.isClosed()) return;
    const names = this.resourcesOf(u);
    const results = await Promise.allSettled(
      how === 'terminate' ? names.map((n) => this.monitor.terminate(n)) : u.group ? [this.monitor.offlineGroup(u.name)] : [this.monitor.offline(u.name)],
    );
    for (const r of results) {
      if (r.status === 'rejected') this.log.warn({ err: r.reason }, `cluster ${this.node}: ${how} of "${u.name}" failed: ${reasonOf(r.reason)}`);
    }
  }

  private async releaseLease(u: Unit, token: number, reason: string, event: 'released'): Promise<void> {
    if (u.owned?.token === token) {
      u.owned.safety.cancel();
      u.owned = null;
    }
    u.lastHolder = this.node;
    try {
      await this.store.release(u.name, this.node, token);
    } catch (error) {
      this.log.warn({ err: error }, `cluster ${this.node}: releasing "${u.name}" failed (it expires after ttl): ${reasonOf(error)}`);
    }
    this.emitEvent(event, { unit: u.name, node: this.node, token, at: this.clock.now(), reason });
  }

  private emitEvent<K extends keyof ClusterMemberEvents>(event: K, payload: Parameters<ClusterMemberEvents[K]>[0]): void {
    try {
      (this.emit as (e: string, p: unknown) => boolean)(event, payload);
    } catch (error) {
      this.log.error({ err: error }, `cluster ${this.node}: a "${event}" listener threw`);
    }
  }
}

/**
 * Checks `preferredNodes` keys against the monitor's resources: each must name a group or an
 * ungrouped resource. Returns the first wrong key and the rule it breaks, or null.
 */
export function checkPreferredUnits(keys: readonly string[], monitor: Pick<ResourceMonitor, 'snapshot'>): { key: string; rule: string } | null {
  const resources = monitor.snapshot();
  const units = new Set(resources.map((r) => r.group ?? r.name));
  for (const key of keys) {
    if (units.has(key)) continue;
    const grouped = resources.find((r) => r.name === key);
    if (grouped) return { key, rule: `names resource "${key}" of group "${grouped.group}": a group's resources move together, so key it by the group ("${grouped.group}")` };
    return { key, rule: `names no group or ungrouped resource of the monitor (units: ${[...units].join(', ') || 'none'}); add the resources before creating the member` };
  }
  return null;
}
