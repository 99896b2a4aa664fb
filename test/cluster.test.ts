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
    expect(await c.leases.holder('svc')).toMatchObject({ node: 'a', token: 1 });
    expect(c.history).toHaveLength(1);
    expect(c.members[1]!.member.status()).toEqual({ node: 'b', members: ['a', 'b', 'c'], running: true, units: [{ unit: 'svc', owner: 'a', token: 1, owned: false, offline: false }] });
    expect(c.members[0]!.member.status().units).toEqual([{ unit: 'svc', owner: 'a', token: 1, owned: true, offline: false }]);
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
    expect(c.history.map((e) => `${e.call}@${e.at}`).slice(0, 2)).toEqual(['online@0', `terminate@${TTL / 3}`]);
    await a.member.stop();
  });

  it('preferredNodes: a free unit goes to the preferred live member; one that is not running is skipped', async () => {
    // a starts alone: b has no heartbeat, so a takes svc at once.
    const c = cluster(['a', 'b'], { member: { preferredNodes: { svc: ['b', 'a'] } } });
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    expect(c.history.map((e) => `${e.node}:${e.resource}`)).toEqual(['a:svc']);
    for (const m of c.members) await m.member.stop();
    // Both live: a unit that appears on both goes to b, though a looks at it in the same round.
    const d = cluster(['a', 'b'], { member: { preferredNodes: { svc: ['b', 'a'] } } });
    for (const m of d.members) await m.monitor.removeResource('svc');
    for (const m of d.members) await m.member.start();
    // a read the heartbeats when it started, before b's: it sees b at its next round.
    await vi.advanceTimersByTimeAsync(TTL / 3);
    expect(d.byNode('a').member.status().members).toEqual(['a', 'b']);
    for (const m of d.members) m.monitor.addResource({ name: 'svc', type: 'rec' });
    await vi.advanceTimersByTimeAsync(TTL);
    expect(d.history.map((e) => `${e.node}:${e.resource}`)).toEqual(['b:svc']);
    for (const m of d.members) await m.member.stop();
  });

  it('escalation releases the unit for another member; failoverThreshold counts for the whole cluster, per failoverPeriod', async () => {
    // Online fails everywhere. Threshold 1 per hour, cluster-wide: a fails it over once, then b keeps it (failed).
    const c = cluster(['a', 'b'], { failOnline: () => true, member: { failoverThreshold: 1, failoverPeriod: 3_600_000 } });
    const failovers: string[] = [];
    for (const m of c.members) m.member.on('failover', (e) => failovers.push(`${e.node}:${e.token}@${e.at}`));
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(failovers).toEqual(['a:1@0']);
    // a's release was announced: b took the unit at once.
    expect(c.history.filter((e) => e.call === 'online').map((e) => `${e.node}:${e.token}@${e.at}`)).toEqual(['a:1@0', 'b:2@0']);
    expect(await c.leases.holder('svc')).toMatchObject({ node: 'b', token: 2 });
    // The window slides: an hour after a's failover, b may fail it over (its retry escalates again).
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(failovers).toEqual(['a:1@0', `b:2@${3_600_000}`]);
    expect(c.history.filter((e) => e.call === 'online').map((e) => `${e.node}:${e.token}`)).toEqual(['a:1', 'b:2', 'b:2', 'a:3']);
    checkHistory(c.history);
    for (const m of c.members) await m.member.stop();
  });

  it('failoverThreshold is one count per unit in the store: three members, threshold 2, the third keeps it', async () => {
    const c = cluster(['a', 'b', 'c'], { failOnline: () => true, member: { failoverThreshold: 2, preferredNodes: { svc: ['a', 'b', 'c'] } } });
    const failovers: string[] = [];
    for (const m of c.members) m.member.on('failover', (e) => failovers.push(e.node));
    for (const m of c.members) await m.member.start();
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(failovers).toEqual(['a', 'b']);
    expect(c.history.filter((e) => e.call === 'online').map((e) => `${e.node}:${e.token}`)).toEqual(['a:1', 'b:2', 'c:3']);
    expect(await c.leases.holder('svc')).toMatchObject({ node: 'c', token: 3 });
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
    // a escalates before b starts: with the default (live members - 1 = 0) it would keep the unit.
    const c = cluster(['a', 'b'], { failOnline: (n) => n === 'a', member: { failoverThreshold: 1 } });
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    await vi.advanceTimersByTimeAsync(5 * TTL);
    expect(c.byNode('b').monitor.getState('svc')).toBe('online');
    expect(c.byNode('a').monitor.getState('svc')).toBe('offline');
    expect(await c.leases.holder('svc')).toMatchObject({ node: 'b', token: 2 });
    for (const m of c.members) await m.member.stop();
  });

  it('stop() takes the unit offline, then releases it; another member takes over with a higher token', async () => {
    const c = cluster(['a', 'b']);
    await c.byNode('a').member.start();
    await c.byNode('b').member.start();
    const released: unknown[] = [];
    c.byNode('a').member.on('released', (e) => released.push(e));
    await c.byNode('a').member.stop();
    expect(released).toEqual([{ unit: 'svc', node: 'a', token: 1, at: 0, reason: 'stop() called' }]);
    // The store announced the release: b took the unit at once (same instant), not at its next round.
    await vi.advanceTimersByTimeAsync(0);
    expect(c.history).toEqual([
      { at: 0, node: 'a', resource: 'svc', call: 'online', token: 1 },
      { at: 0, node: 'a', resource: 'svc', call: 'offline', token: 1 },
      { at: 0, node: 'b', resource: 'svc', call: 'online', token: 2 },
    ]);
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
    expect(await c.leases.holder('late')).toMatchObject({ node: 'a', token: 1 });
    const released: string[] = [];
    a.member.on('released', (e) => released.push(`${e.unit}: ${e.reason}`));
    await a.monitor.removeResource('late');
    await vi.advanceTimersByTimeAsync(TTL / 3);
    expect(released).toEqual(['late: its resources were removed from the monitor']);
    expect(await c.leases.holder('late')).toBeNull();
    expect(a.member.status().units.map((u) => u.unit)).toEqual(['svc']);
    await a.member.stop();
  });

  it('failover after the owner dies: the next preferred member takes the unit the moment the lease runs out', async () => {
    const c = cluster(['a', 'b', 'c'], { member: { preferredNodes: { svc: ['a', 'b', 'c'] } } });
    for (const m of c.members) await m.member.start();
    // a renews at 1000 and 2000; at 2500 its store calls hang (dead, or cut off). The store's lease ends at 2000 + ttl.
    await vi.advanceTimersByTimeAsync(2_500);
    const hang = new Promise<never>(() => {});
    const a = c.byNode('a');
    (a.member as unknown as { store: LeaseStore }).store = { ...c.leases, renew: () => hang, holder: () => hang, acquire: () => hang, release: () => hang };
    await vi.advanceTimersByTimeAsync(2 * TTL);
    expect(c.history.map((e) => `${e.node}:${e.call}:${e.token}@${e.at}`)).toEqual([
      'a:online:1@0',
      `a:terminate:1@${2_000 + TTL - TTL / 4}`,
      // Exactly at expiry (memoryLeases tells members how long a lease has left; they wake then), on b, next after a.
      `b:online:2@${2_000 + TTL}`,
    ]);
    checkHistory(c.history);
    for (const m of [c.byNode('b'), c.byNode('c')]) await m.member.stop();
  });

  it('failover when the next preferred member died too (its heartbeat not yet expired): the one after it waits preferenceDelay, no longer', async () => {
    const c = cluster(['a', 'b', 'c'], { member: { preferredNodes: { svc: ['a', 'b', 'c'] }, preferenceDelay: 200 } });
    for (const m of c.members) await m.member.start();
    const hang = new Promise<never>(() => {});
    const cut = (node: string) => {
      (c.byNode(node).member as unknown as { store: LeaseStore }).store = { ...c.leases, renew: () => hang, holder: () => hang, acquire: () => hang, release: () => hang, heartbeat: () => hang };
    };
    // a's lease ends at 2000 + ttl; b's heartbeat (renewed at 3000) lasts until 6000.
    await vi.advanceTimersByTimeAsync(2_500);
    cut('a');
    await vi.advanceTimersByTimeAsync(1_000);
    cut('b');
    await vi.advanceTimersByTimeAsync(2 * TTL);
    expect(c.history.filter((e) => e.call === 'online').map((e) => `${e.node}:${e.token}@${e.at}`)).toEqual(['a:1@0', `c:2@${2_000 + TTL + 200}`]);
    checkHistory(c.history);
    await c.byNode('c').member.stop();
  });

  it('failover when the next preferred member has been down longer than a ttl: skipped, the one after it takes over at once', async () => {
    // b (preferred after a) is not running at all.
    const c = cluster(['a', 'c'], { member: { preferredNodes: { svc: ['a', 'b', 'c'] }, preferenceDelay: 200 } });
    for (const m of c.members) await m.member.start();
    await vi.advanceTimersByTimeAsync(2_500);
    const hang = new Promise<never>(() => {});
    (c.byNode('a').member as unknown as { store: LeaseStore }).store = { ...c.leases, renew: () => hang, holder: () => hang, acquire: () => hang, release: () => hang };
    await vi.advanceTimersByTimeAsync(2 * TTL);
    expect(c.history.filter((e) => e.call === 'online').map((e) => `${e.node}:${e.token}@${e.at}`)).toEqual(['a:1@0', `c:2@${2_000 + TTL}`]);
    checkHistory(c.history);
    await c.byNode('c').member.stop();
  });

  it('failoverThreshold defaults to the live members - 1, counted cluster-wide', async () => {
    const c = cluster(['a', 'b', 'c'], { failOnline: () => true, member: { preferredNodes: { svc: ['a', 'b', 'c'] } } });
    const failovers: string[] = [];
    for (const m of c.members) m.member.on('failover', (e) => failovers.push(e.node));
    // Start all three before the unit exists, so that it escalates with three live members.
    for (const m of c.members) await m.monitor.removeResource('svc');
    for (const m of c.members) await m.member.start();
    for (const m of c.members) m.monitor.addResource({ name: 'svc', type: 'rec' });
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(failovers).toEqual(['a', 'b']);
    expect(await c.leases.holder('svc')).toMatchObject({ node: 'c' });
    checkHistory(c.history);
    for (const m of c.members) await m.member.stop();
  });

  it('no stampede: when a lease ends every member learns it at once, the preferred one acquires, the others do not try', async () => {
    const c = cluster(['a', 'b', 'c'], { member: { preferredNodes: { svc: ['a', 'b', 'c'] } } });
    for (const m of c.members) await m.member.start();
    const acquire = vi.spyOn(c.leases, 'acquire');
    await c.byNode('a').member.stop();
    await vi.advanceTimersByTimeAsync(TTL);
    // Only b asked for it; c saw b holding it when its preference wait ended.
    expect(acquire.mock.calls.map((call) => call[1])).toEqual(['b']);
    expect(c.history.filter((e) => e.call === 'online').map((e) => `${e.node}@${e.at}`)).toEqual(['a@0', 'b@0']);
    for (const m of c.members) await m.member.stop();
  });

  it('a release announced while a member is reading the holder: it looks again at once, not at its next round', async () => {
    const leases = memoryLeases();
    // b's holder() answers 100 ms after it read the store (a slow network).
    const slow: LeaseStore = { ...leases, holder: async (unit) => { const h = await leases.holder(unit); await new Promise((r) => setTimeout(r, 100)); return h; } };
    const c = cluster(['a'], { store: leases });
    const b = cluster(['b'], { store: slow });
    await c.members[0]!.member.start();
    const started = b.members[0]!.member.start();
    await vi.advanceTimersByTimeAsync(1_050);
    await started; // b's round at 1000 read "a holds it"; its answer comes at 1100
    await c.members[0]!.member.stop();
    await vi.advanceTimersByTimeAsync(500);
    // At 1100 b saw the stale answer, then looked again (read at 1100, answer at 1200) and took it.
    expect(b.history.map((e) => `${e.node}:${e.call}:${e.token}@${e.at}`)).toEqual(['b:online:2@1200']);
    await b.members[0]!.member.stop();
  });

  it('a store without watch(): members notice a freed unit at their next round (ttl / 3)', async () => {
    const inner = memoryLeases();
    const { watch: _watch, ...noWatch } = inner;
    const c = cluster(['a', 'b'], { store: { ...noWatch, holder: async (unit) => { const h = await inner.holder(unit); return h && { node: h.node, token: h.token }; } } });
    for (const m of c.members) await m.member.start();
    await vi.advanceTimersByTimeAsync(100);
    await c.byNode('a').member.stop();
    await vi.advanceTimersByTimeAsync(TTL);
    expect(c.history.filter((e) => e.call === 'online').map((e) => `${e.node}@${e.at}`)).toEqual(['a@0', `b@${TTL / 3}`]);
    await c.byNode('b').member.stop();
  });

  it('offline(unit) is cluster-wide: the owner keeps the lease and the unit offline; the next owner keeps it offline; online(unit) brings it back', async () => {
    const c = cluster(['a', 'b']);
    for (const m of c.members) await m.member.start();
    const a = c.byNode('a');
    const b = c.byNode('b');
    await a.member.offline('svc');
    expect(a.monitor.getState('svc')).toBe('offline');
    expect(a.member.status().units).toEqual([{ unit: 'svc', owner: 'a', token: 1, owned: true, offline: true }]);
    await vi.advanceTimersByTimeAsync(2 * TTL);
    expect(await c.leases.holder('svc')).toMatchObject({ node: 'a', token: 1 });
    // Only the owner can: b is told who owns it.
    await expect(b.member.offline('svc')).rejects.toThrow(/does not own the unit; node "a" owns it \(token 1\)/);
    await expect(b.member.online('svc')).rejects.toMatchObject({ code: 'ERR_RESMON_STATE' });
    // a goes away: b takes the unit over, and keeps it offline.
    await a.member.stop();
    await vi.advanceTimersByTimeAsync(TTL);
    expect(b.member.status().units).toEqual([{ unit: 'svc', owner: 'b', token: 2, owned: true, offline: true }]);
    expect(b.monitor.getState('svc')).toBe('offline');
    expect(c.history.map((e) => `${e.node}:${e.call}`)).toEqual(['a:online', 'a:offline']);
    await b.member.online('svc');
    expect(b.monitor.getState('svc')).toBe('online');
    await b.member.terminate('svc');
    expect(c.history.map((e) => `${e.node}:${e.call}:${e.token}`).slice(2)).toEqual(['b:online:2', 'b:terminate:2']);
    checkHistory(c.history);
    await b.member.stop();
  });

  it('offline(name) of a grouped resource names the group; an unknown unit is a StateError', async () => {
    const c = cluster(['a'], { groups: true });
    await c.members[0]!.member.start();
    await expect(c.members[0]!.member.offline('db')).rejects.toThrow(/is in group "web".*name "web"/);
    await expect(c.members[0]!.member.offline('nope')).rejects.toThrow(/not a unit of this member \(units: web\)/);
    expect(c.members[0]!.member.unitOf('db')).toBe('web');
    await c.members[0]!.member.offline('web');
    expect(c.history.map((e) => `${e.resource}:${e.call}`)).toEqual(['db:online', 'app:online', 'app:offline', 'db:offline']);
    await c.members[0]!.member.stop();
  });

  it('preferredNodes keyed by a grouped resource, or by no unit at all, is a ConfigError naming the key and the rule', () => {
    const monitor = new ResourceMonitor();
    monitor.registerType({ name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => true });
    monitor.addResource({ name: 'db', type: 't', group: 'web' });
    monitor.addResource({ name: 'svc', type: 't' });
    const leases = memoryLeases();
    expect(() => new ClusterMember(monitor, { node: 'a', leases, ttl: 1000, preferredNodes: { db: ['a'] } })).toThrow(
      expect.objectContaining({ field: 'preferredNodes.db', message: expect.stringContaining('names resource "db" of group "web"') }),
    );
    expect(() => new ClusterMember(monitor, { node: 'a', leases, ttl: 1000, preferredNodes: { wbe: ['a'] } })).toThrow(
      expect.objectContaining({ field: 'preferredNodes.wbe', message: expect.stringContaining('names no group or ungrouped resource of the monitor (units: web, svc)') }),
    );
    expect(() => new ClusterMember(monitor, { node: 'a', leases, ttl: 1000, preferredNodes: { web: ['a'], svc: ['b'] } })).not.toThrow();
  });

  it('failbackDelay: the preferred node that comes back gets the unit back after the delay, once; without it the unit stays', async () => {
    for (const failbackDelay of [2_000, undefined]) {
      vi.setSystemTime(0);
      // Two member objects for node a: the first stops (a goes away), the second is a coming back.
      const c = cluster(['a', 'b', 'a'], { member: { preferredNodes: { svc: ['a', 'b'] }, ...(failbackDelay === undefined ? {} : { failbackDelay }) } });
      const [a, b, aAgain] = c.members as [(typeof c.members)[0], (typeof c.members)[0], (typeof c.members)[0]];
      const released: string[] = [];
      b.member.on('released', (e) => released.push(`${e.at}: ${e.reason}`));
      await a.member.start();
      await b.member.start();
      await vi.advanceTimersByTimeAsync(1_000);
      await a.member.stop();
      await vi.advanceTimersByTimeAsync(1_000);
      await aAgain.member.start(); // at 2000; b sees it at its round at 3000
      await vi.advanceTimersByTimeAsync(10_000);
      const onlines = c.history.filter((e) => e.call === 'online').map((e) => `${e.node}:${e.token}@${e.at}`);
      if (failbackDelay === undefined) {
        expect(onlines).toEqual(['a:1@0', 'b:2@1000']);
        expect(released).toEqual([]);
      } else {
        expect(onlines).toEqual(['a:1@0', 'b:2@1000', 'a:3@5000']);
        expect(released).toEqual(['5000: failback to node "a", preferred for "svc" and back since 3000']);
        expect(aAgain.monitor.getState('svc')).toBe('online');
      }
      checkHistory(c.history);
      for (const m of [b, aAgain]) await m.member.stop();
    }
  });

  it('failbackDelay: a unit that failed over away from its preferred node (which stayed up) is not moved back', async () => {
    const c = cluster(['a', 'b'], { failOnline: (n) => n === 'a', member: { preferredNodes: { svc: ['a', 'b'] }, failbackDelay: 0, failoverThreshold: 1 } });
    for (const m of c.members) await m.monitor.removeResource('svc');
    for (const m of c.members) await m.member.start();
    await vi.advanceTimersByTimeAsync(TTL / 3);
    for (const m of c.members) m.monitor.addResource({ name: 'svc', type: 'rec' });
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(c.history.filter((e) => e.call === 'online').map((e) => e.node)).toEqual(['a', 'b']);
    expect(c.byNode('b').monitor.getState('svc')).toBe('online');
    for (const m of c.members) await m.member.stop();
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
      [{ node: 'a', leases, ttl: 1000, preferenceDelay: -1 }, 'preferenceDelay'],
      [{ node: 'a', leases, ttl: 1000, failbackDelay: Number.NaN }, 'failbackDelay'],
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
