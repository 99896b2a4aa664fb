import { EventEmitter } from 'eventemitter3';
import { after, type Clock, systemClock, type Timer } from '../clock.js';
import { ConfigError, reasonOf } from '../errors.js';
import type { EscalatedEvent } from '../events.js';
import { type Logger, silentLogger } from '../logger.js';
import type { ResourceMonitor } from '../monitor.js';
import { LEASE_STORE_METHODS, type LeaseStore } from './store.js';

/** Options of {@link ClusterMember}. */
export interface ClusterMemberOptions {
  /** This member's node name, unique in the cluster (a host name). */
  node: string;
  /** The lease store all members share: `etcdLeases`, `postgresLeases` or `memoryLeases`. `stop()` closes it. */
  leases: LeaseStore;
  /**
   * Lease length in milliseconds. The owner renews every `ttl / 3`; a dead owner's units come
   * up elsewhere within about `ttl + ttl / 3` plus one online.
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
   * preferred first. A member waits `rank * ttl / 3` after seeing a unit free before acquiring it,
   * so a live preferred member gets it first. Units not listed: every member competes at once.
   * @example { web: ['node-a', 'node-b'] }
   */
  preferredNodes?: Record<string, readonly string[]>;
  /**
   * How many times this member fails a unit over (releases it after the unit escalated) within
   * `failoverPeriod`. Beyond that it keeps the unit, and the monitor's `retryPeriodOnFailure`
   * retries it there. 0 never fails over. An integer >= 0.
   * @default 1
   */
  failoverThreshold?: number;
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
  reason: string;
}

/** The events of a {@link ClusterMember}. */
export interface ClusterMemberEvents {
  /** This member acquired a unit's lease; it brings the unit online next. */
  acquired: (event: ClusterEvent) => void;
  /** This member took a unit offline and released its lease (stop(), or after a failover). */
  released: (event: ClusterReasonEvent) => void;
  /** This member lost a unit's lease (the store refused a renewal, or none succeeded in time) and terminated the unit. */
  lost: (event: ClusterReasonEvent) => void;
  /** A unit this member owned escalated; the member took it offline and released it for another member. */
  failover: (event: ClusterReasonEvent) => void;
}

/** One unit in {@link ClusterStatus}. */
export interface ClusterUnitStatus {
  unit: string;
  /** The owner as this member last saw it (itself when it owns the unit), or null when free or not yet seen. */
  owner: string | null;
  /** The owner's fencing token, or null. */
  token: number | null;
  /** This member owns it. */
  owned: boolean;
}

/** What `status()` returns. */
export interface ClusterStatus {
  node: string;
  /** Between start() and stop(). */
  running: boolean;
  units: ClusterUnitStatus[];
}

interface Unit {
  name: string;
  group: boolean;
  owned: { token: number; safety: Timer } | null;
  /** An acquire, online, offline or release is in progress. */
  busy: boolean;
  renewing: boolean;
  seen: { node: string; token: number } | null;
  /** An escalation that came while the unit was busy (its online in progress). */
  escalation: EscalatedEvent | null;
  freeSince: number | null;
  avoidUntil: number;
  failovers: number[];
}

const OPTION_KEYS = new Set(['node', 'leases', 'ttl', 'safetyMargin', 'preferredNodes', 'failoverThreshold', 'failoverPeriod', 'clock', 'logger']);

/**
 * One machine's membership in a cluster of monitors that share units through leases: each unit
 * (a group, or an ungrouped resource) is online on at most one member at a time. The member
 * competes for every unit of its monitor, brings the units it acquires online (each resource's
 * `ctx.fencingToken` set to the lease's token), renews their leases every `ttl / 3`, terminates
 * them if it cannot renew in time, and releases a unit for another member when it escalates.
 *
 * Every member must have the same resources and groups added to its monitor; the member brings
 * them online and offline itself: do not call `online()` for them.
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
  private readonly failoverThreshold: number;
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
    for (const [unit, nodes] of Object.entries(preferred)) {
      if (!Array.isArray(nodes) || nodes.some((n) => typeof n !== 'string' || n.length === 0)) {
        throw new ConfigError(`preferredNodes.${unit}`, nodes, 'must be an array of node names', { context });
      }
    }
    const failoverThreshold = options.failoverThreshold ?? 1;
    if (typeof failoverThreshold !== 'number' || !Number.isInteger(failoverThreshold) || failoverThreshold < 0) {
      throw new ConfigError('failoverThreshold', failoverThreshold, 'must be an integer >= 0', { context });
    }
    const failoverPeriod = options.failoverPeriod ?? 6 * 3_600_000;
    if (typeof failoverPeriod !== 'number' || !Number.isFinite(failoverPeriod) || failoverPeriod <= 0) {
      throw new ConfigError('failoverPeriod', failoverPeriod, 'must be a finite number > 0 (milliseconds)', { context });
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
    this.failoverThreshold = failoverThreshold;
    this.failoverPeriod = failoverPeriod;
    this.clock = clock;
    this.log = options.logger ?? silentLogger;
  }

  /** Starts competing for the monitor's units: at once, then every `ttl / 3`. Resolves after the first round. */
  async start(): Promise<void> {
    if (this.stopping) throw new ConfigError('start()', undefined, 'cannot be called after stop()', { context: `ClusterMember "${this.node}"` });
    if (this.running) return;
    this.running = true;
    this.ticking = true;
    this.monitor.on('escalated', this.onEscalated);
    await this.tick();
  }

  /**
   * Stops competing, takes every unit it owns offline (gracefully), releases their leases, and
   * closes the lease store. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      this.monitor.off('escalated', this.onEscalated);
      // Units keep being renewed while they go offline; none is acquired any more.
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
      await Promise.allSettled(
        [...this.units.values()].filter((u) => u.owned).map(async (u) => {
          const token = u.owned!.token;
          u.busy = true;
          try {
            await this.takeOffline(u, 'offline');
            if (u.owned?.token === token) await this.releaseLease(u, token, 'stop() called', 'released');
          } finally {
            u.busy = false;
          }
        }),
      );
      this.ticking = false;
      this.ticker?.cancel();
      this.ticker = null;
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
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
      running: this.running,
      units: [...this.units.values()].map((u) => ({
        unit: u.name,
        owner: u.owned ? this.node : (u.seen?.node ?? null),
        token: u.owned ? u.owned.token : (u.seen?.token ?? null),
        owned: u.owned !== null,
      })),
    };
  }

  /** The units: each group, and each ungrouped resource, of the monitor. */
  private refreshUnits(): void {
    if (this.monitor.isClosed()) return;
    const present = new Set<string>();
    for (const r of this.monitor.snapshot()) {
      const name = r.group ?? r.name;
      present.add(name);
      if (!this.units.has(name)) {
        this.units.set(name, { name, group: r.group !== null, owned: null, busy: false, renewing: false, seen: null, escalation: null, freeSince: null, avoidUntil: 0, failovers: [] });
      }
    }
    // A unit whose resources were all removed from the monitor: forget it, releasing its lease.
    for (const u of this.units.values()) {
      if (present.has(u.name) || u.busy) continue;
      this.units.delete(u.name);
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

  /** One round: renew what it owns, look at (and maybe acquire) what it does not. */
  private async tick(): Promise<void> {
    if (!this.ticking) return;
    this.ticker = after(this.clock, this.ttl / 3, () => void this.tick());
    this.refreshUnits();
    const round: Promise<void>[] = [];
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
    u.busy = true;
    try {
      await this.takeOffline(u, 'terminate');
      this.log.warn(`cluster ${this.node}: lost "${u.name}" (token ${owned.token}): ${reason}; terminated it`);
      this.emitEvent('lost', { unit: u.name, node: this.node, token: owned.token, at: this.clock.now(), reason });
      // The lease may still be ours at the store (a slow store): give it back early, by token.
      await this.store.release(u.name, this.node, owned.token).catch(() => {});
    } finally {
      u.busy = false;
    }
  }

  private rank(unit: string): number {
    const list = this.preferred[unit];
    if (!list) return 0;
    const i = list.indexOf(this.node);
    return i === -1 ? list.length : i;
  }

  private async consider(u: Unit): Promise<void> {
    u.busy = true;
    try {
      const holder = await this.store.holder(u.name);
      if (holder) {
        u.seen = holder;
        u.freeSince = null;
        return;
      }
      u.seen = null;
      const now = this.clock.now();
      u.freeSince ??= now;
      if (now < u.avoidUntil || now - u.freeSince < (this.rank(u.name) * this.ttl) / 3 || !this.running) return;
      const sent = this.clock.now();
      const token = await this.store.acquire(u.name, this.node, this.ttl);
      if (token === null) return;
      u.freeSince = null;
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
      const online = u.group ? this.monitor.onlineGroup(u.name) : this.monitor.online(u.name);
      // The restart policy takes it from here; an escalation fails the unit over.
      await online.catch((error) => this.log.warn({ err: error }, `cluster ${this.node}: "${u.name}" did not come online: ${reasonOf(error)}`));
    } finally {
      u.busy = false;
    }
    const pending = u.escalation;
    u.escalation = null;
    if (pending) this.escalated(pending);
  }

  private escalated(e: EscalatedEvent): void {
    const u = this.units.get(e.group ?? e.resource);
    if (!u?.owned || !this.running) return;
    if (u.busy) {
      u.escalation = e;
      return;
    }
    const now = this.clock.now();
    u.failovers = u.failovers.filter((t) => t > now - this.failoverPeriod);
    if (u.failovers.length >= this.failoverThreshold) {
      this.log.warn(`cluster ${this.node}: "${u.name}" escalated; failoverThreshold (${this.failoverThreshold} per ${this.failoverPeriod} ms) spent, keeping it`);
      return;
    }
    u.failovers.push(now);
    const token = u.owned.token;
    const reason = `resource "${e.resource}" escalated (${e.restarts} restarts in ${e.periodMs} ms)`;
    u.busy = true;
    this.track(
      (async () => {
        try {
          await this.takeOffline(u, 'offline');
          // Let another member take it first: this one waits a ttl before competing again.
          u.avoidUntil = this.clock.now() + this.ttl;
          this.emitEvent('failover', { unit: u.name, node: this.node, token, at: this.clock.now(), reason });
          await this.releaseLease(u, token, reason, 'released');
        } finally {
          u.busy = false;
        }
      })(),
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
