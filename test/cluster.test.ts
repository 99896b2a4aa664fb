import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isConfigError, ResourceMonitor, type ResourceType } from 'resmon';
import { ClusterMember, type LeaseStore, memoryLeases } from 'resmon/cluster';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Entry {
  at: number;
  node: string;
  resource: string;
  call: 'online' | 'offline' | 'terminate';
  token: number | undefined;
}

const TTL = 3_000;

/** A cluster of members on one memoryLeases store, each with its own monitor; every call goes to `history`. */
function cluster(nodes: string[], opts: { groups?: boolean; failOnline?: (node: string) => boolean; member?: Partial<ConstructorParameters<typeof ClusterMember>[1]>; store?: LeaseStore } = {}) {
  const history: Entry[] = [];
  const leases = opts.store ?? memoryLeases();
  const members = nodes.map((node) => {
    const monitor = new ResourceMonitor({
      defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 60_000, restartThreshold: 0, restartDelay: 0, retryPeriodOnFailure: 3_600_000 },
    });
    const type: ResourceType = {
      name: 'rec',
      online: (ctx) => {
        history.push({ at: Date.now(), node, resource: ctx.resource, call: 'online', token: ctx.fencingToken });
        if (opts.failOnline?.(node)) throw new Error('cannot start here');
      },
      offline: (ctx) => void history.push({ at: Date.now(), node, resource: ctx.resource, call: 'offline', token: ctx.fencingToken }),
      terminate: (ctx) => void history.push({ at: Date.now(), node, resource: ctx.resource, call: 'terminate', token: ctx.fencingToken }),
      isAlive: () => true,
    };
    monitor.registerType(type);
    if (opts.groups) {
      monitor.addResource({ name: 'db', type: 'rec', group: 'web' });
      monitor.addResource({ name: 'app', type: 'rec', group: 'web', dependsOn: ['db'] });
    } else {
      monitor.addResource({ name: 'svc', type: 'rec' });
    }
    const member = new ClusterMember(monitor, { node, leases, ttl: TTL, ...opts.member });
    return { node, monitor, member };
  });
  return { history, leases, members, byNode: (n: string) => members.find((m) => m.node === n)! };
}

/** Checks the history: never two members online at once for a resource; a new owner's token is strictly higher. */
function checkHistory(history: Entry[]) {
  const up = new Map<string, string>();
  const last = new Map<string, { node: string; token: number }>();
  for (const e of history) {
    if (e.call === 'online') {
      const cur = up.get(e.resource);
      if (cur !== undefined && cur !== e.node) throw new Error(`${e.resource} online on ${e.node} while up on ${cur} at ${e.at}`);
      expect(typeof e.token).toBe('number');
      const prev = last.get(e.resource);
      if (prev && prev.node !== e.node) expect(e.token!).toBeGreaterThan(prev.token);
      if (prev) expect(e.token!).toBeGreaterThanOrEqual(prev.token);
      last.set(e.resource, { node: e.node, token: e.token! });
      up.set(e.resource, e.node);
    } else if (up.get(e.resource) === e.node) {
      up.delete(e.resource);
    }
  }
}

describe('ClusterMember on memoryLeases', () => {
  it('one member acquires the unit, brings it online with the token, and renews every ttl / 3', async () => {
    const c = cluster(['a', 'b', 'c']);
    const acquired: unknown[] = [];
    for (const m of c.members) m.member.on('acquired', (e) => acquired.push(e));
    await c.members[0]!.member.start();
    await c.members[1]!.member.start();
    await c.members[2]!.member.start();
    expect(acquired).toEqual([{ unit: 'svc', node: 'a', token: 1, at: 0 }]);
    expect(c.history).toEqual([{ at: 0, node: 'a', resource: 'svc', call: 'online', token: 1 }]);
    await vi.advanceTimersByTimeAsync(10 * TTL);
    // Still a's, same token: renewals kept it; nobody else came up.
    expect(await c.leases.holder('svc')).toEqual({ node: 'a', token: 1 });
    expect(c.history).toHaveLength(1);
    expect(c.members[1]!.member.status()).toEqual({ node: 'b', running: true, units: [{ unit: 'svc', owner: 'a', token: 1, owned: false }] });
    expect(c.members[0]!.member.status().units).toEqual([{ unit: 'svc', owner: 'a', token: 1, owned: true }]);
    for (const m of c.members) await m.member.stop();
  });

  it('a group is one unit: all of it on one member, bottom-up, each call with the token', async () => {
    const c = cluster(['a', 'b'], { groups: true });
    await c.members[1]!.member.start();
    await c.members[0]!.member.start();
    expect(c.history.map((e) => `${e.node}:${e.resource}:${e.call}:${e.token}`)).toEqual(['b:db:online:1', 'b:app:online:1']);
    expect(c.byNode('b').monitor.groupStatus('web').state).toBe('online');
    expect(c.byNode('a').monitor.groupStatus('web').state).toBe('offline');
    for (const m of c.members) await m.member.stop();
  });

  it('an owner that stops renewing: another member takes over after the lease expires, with a higher token', async () => {
    const c = cluster(['a', 'b']);
    await c.members[0]!.member.start();
    await c.members[1]!.member.start();
    // a's store calls hang from now on (a cut-off owner); b still reaches the store.
    const a = c.byNode('a');
    const lost: unknown[] = [];
    a.member.on('lost', (e) => lost.push(e));
    const hang = new Promise<never>(() => {});
    (a.member as unknown as { store: LeaseStore }).store = { ...c.leases, renew: () => hang, holder: () => hang, acquire: () => hang, release: () => hang };
    await vi.advanceTimersByTimeAsync(3 * TTL);
    const online = c.history.filter((e) => e.call === 'online');
    expect(online.map((e) => `${e.node}:${e.token}`)).toEqual(['a:1', 'b:2']);
    // a terminated its unit before b brought it online.
    const term = c.history.find((e) => e.node === 'a' && e.call === 'terminate')!;
    expect(term.at).toBeLessThan(online[1]!.at);
    expect(term.at).toBeLessThanOrEqual(TTL - TTL / 4);
    expect(lost).toEqual([{ unit: 'svc', node: 'a', token: 1, at: term.at, reason: expect.stringContaining('within ttl - safetyMargin') }]);
    checkHistory(c.history);
    await c.members[1]!.member.stop();
  });

  it('safety: the owner terminates at ttl - safetyMargin after its last successful renewal, before the store could grant the unit', async () => {
    const c = cluster(['a'], { member: { safetyMargin: 500 } });
    const a = c.members[0]!;
    await a.member.start();
    // Renewals succeed at 1000 and 2000; then the store stops answering a.
    await vi.advanceTimersByTimeAsync(2_000);
    const hang = new Promise<never>(() => {});
    (a.member as unknown as { store: LeaseStore }).store = { ...c.leases, renew: () => hang, release: () => hang };
    await vi.advanceTimersByTimeAsync(2_000 + TTL);
    const term = c.history.find((e) => e.call === 'terminate')!;
    expect(term.at).toBe(2_000 + TTL - 500);
    // At that moment the store still held the lease: nobody could have acquired it.
    expect(term.at).toBeLessThan(2_000 + TTL);
  });

  it('a renewal the store refuses: the owner terminates at once', async () => {
    const c = cluster(['a']);
    const a = c.members[0]!;
    await a.member.start();
    (a.member as unknown as { store: LeaseStore }).store = { ...c.leases, renew: async () => false };
    await vi.advanceTimersByTimeAsync(TTL / 3);
    expect(c.history.map((e) => `${e.call}@${e.at}`)).toEqual(['online@0', `terminate@${TTL / 3}`]);
    expect(a.member.status().units[0]!.owned).toBe(false);
  });

  it('preferredNodes: the preferred member gets a free unit even when it starts later in the round', async () => {
    const c = cluster(['a', 'b'], { member: { preferredNodes: { svc: ['b', 'a'] } } });
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    await vi.advanceTimersByTimeAsync(TTL);
    expect(c.history.filter((e) => e.call === 'online').map((e) => e.node)).toEqual(['b']);
    for (const m of c.members) await m.member.stop();
  });

  it('escalation releases the unit for another member, limited by failoverThreshold per failoverPeriod', async () => {
    // Online fails everywhere: each member fails it over once, then keeps it (failed).
    const c = cluster(['a', 'b'], { failOnline: () => true, member: { failoverThreshold: 1, failoverPeriod: 3_600_000 } });
    const failovers: string[] = [];
    for (const m of c.members) m.member.on('failover', (e) => failovers.push(`${e.node}:${e.token}`));
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(failovers).toEqual(['a:1', 'b:2']);
    const online = c.history.filter((e) => e.call === 'online');
    // a (token 1), b (2), then a again (3): its threshold spent, it keeps the unit.
    expect(online.map((e) => `${e.node}:${e.token}`)).toEqual(['a:1', 'b:2', 'a:3']);
    expect(await c.leases.holder('svc')).toEqual({ node: 'a', token: 3 });
    checkHistory(c.history);
    for (const m of c.members) await m.member.stop();
  });

  it('failoverThreshold 0: escalation keeps the unit where it is', async () => {
    const c = cluster(['a', 'b'], { failOnline: () => true, member: { failoverThreshold: 0 } });
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(c.history.filter((e) => e.call === 'online').map((e) => e.node)).toEqual(['a']);
    for (const m of c.members) await m.member.stop();
  });

  it('a failed-over unit comes up on the member where it works', async () => {
    const c = cluster(['a', 'b'], { failOnline: (n) => n === 'a' });
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    await vi.advanceTimersByTimeAsync(5 * TTL);
    expect(c.byNode('b').monitor.getState('svc')).toBe('online');
    expect(c.byNode('a').monitor.getState('svc')).toBe('offline');
    expect(await c.leases.holder('svc')).toEqual({ node: 'b', token: 2 });
    for (const m of c.members) await m.member.stop();
  });

  it('stop() takes the unit offline, then releases it; another member takes over with a higher token', async () => {
    const c = cluster(['a', 'b']);
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    const released: unknown[] = [];
    c.byNode('a').member.on('released', (e) => released.push(e));
    await c.byNode('a').member.stop();
    expect(c.history.map((e) => `${e.node}:${e.call}`)).toEqual(['a:online', 'a:offline']);
    expect(released).toEqual([{ unit: 'svc', node: 'a', token: 1, at: 0, reason: 'stop() called' }]);
    expect(await c.leases.holder('svc')).toBeNull();
    await vi.advanceTimersByTimeAsync(TTL);
    expect(c.history.map((e) => `${e.node}:${e.call}:${e.token}`)).toEqual(['a:online:1', 'a:offline:1', 'b:online:2']);
    await c.byNode('b').member.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a unit added after start() is competed for at the next round; a removed one is released', async () => {
    const c = cluster(['a']);
    const a = c.members[0]!;
    await a.member.start();
    a.monitor.addResource({ name: 'late', type: 'rec' });
    await vi.advanceTimersByTimeAsync(TTL / 3);
    expect(a.monitor.getState('late')).toBe('online');
    expect(await c.leases.holder('late')).toEqual({ node: 'a', token: 1 });
    const released: string[] = [];
    a.member.on('released', (e) => released.push(`${e.unit}: ${e.reason}`));
    await a.monitor.removeResource('late');
    await vi.advanceTimersByTimeAsync(TTL / 3);
    expect(released).toEqual(['late: its resources were removed from the monitor']);
    expect(await c.leases.holder('late')).toBeNull();
    expect(a.member.status().units.map((u) => u.unit)).toEqual(['svc']);
    await a.member.stop();
  });

  it('validates its options: ConfigError naming the field', () => {
    const monitor = new ResourceMonitor();
    const leases = memoryLeases();
    const bad: [Record<string, unknown>, string][] = [
      [{ leases, ttl: 1000 }, 'node'],
      [{ node: '', leases, ttl: 1000 }, 'node'],
      [{ node: 'a', ttl: 1000 }, 'leases'],
      [{ node: 'a', leases: { acquire() {} }, ttl: 1000 }, 'leases'],
      [{ node: 'a', leases }, 'ttl'],
      [{ node: 'a', leases, ttl: Number.NaN }, 'ttl'],
      [{ node: 'a', leases, ttl: 1000, safetyMargin: 0 }, 'safetyMargin'],
      [{ node: 'a', leases, ttl: 1000, safetyMargin: 700 }, 'safetyMargin'],
      [{ node: 'a', leases, ttl: 1000, preferredNodes: { web: 'a' } }, 'preferredNodes.web'],
      [{ node: 'a', leases, ttl: 1000, preferredNodes: [] }, 'preferredNodes'],
      [{ node: 'a', leases, ttl: 1000, failoverThreshold: 1.5 }, 'failoverThreshold'],
      [{ node: 'a', leases, ttl: 1000, failoverThreshold: -1 }, 'failoverThreshold'],
      [{ node: 'a', leases, ttl: 1000, failoverPeriod: 0 }, 'failoverPeriod'],
      [{ node: 'a', leases, ttl: 1000, clock: {} }, 'clock'],
      [{ node: 'a', leases, ttl: 1000, tll: 5 }, 'options.tll'],
    ];
    for (const [options, field] of bad) {
      let error: unknown;
      try {
        new ClusterMember(monitor, options as never);
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error), field).toBe(true);
      expect((error as { field: string }).field).toBe(field);
    }
    expect(() => new ClusterMember({} as never, { node: 'a', leases, ttl: 1000 })).toThrow(/monitor must be a ResourceMonitor/);
  });

  it('setFencingToken: the token reaches online; a bad token is a ConfigError', async () => {
    const monitor = new ResourceMonitor();
    const seen: (number | undefined)[] = [];
    monitor.registerType({ name: 't', online: (ctx) => void seen.push(ctx.fencingToken), offline() {}, terminate() {}, isAlive: () => true });
    monitor.addResource({ name: 'r', type: 't' });
    await monitor.online('r');
    monitor.setFencingToken('r', 7);
    await monitor.offline('r');
    await monitor.online('r');
    expect(seen).toEqual([undefined, 7]);
    expect(() => monitor.setFencingToken('r', -1)).toThrow(expect.objectContaining({ field: 'token' }));
    expect(() => monitor.setFencingToken('r', 1.5)).toThrow(expect.objectContaining({ field: 'token' }));
    await monitor.close();
  });
});
