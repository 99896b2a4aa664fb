/**
 * The scenarios every lease store goes through, on a real server the suite starts itself and
 * three member processes (test/fixtures/cluster/member.ts). After each, the history checker
 * (`replay`) proves no two owners were online at once and tokens only grew.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdLeases, type LeaseChange, type LeaseStore, postgresLeases } from '../../src/cluster/index.js';
import { ClusterRun, type Member, replay, type Server, sleep, startProxy, until } from './cluster-harness.js';

export const TTL = 3_000;

export function storeScenarios(name: string, startServer: () => Promise<Server>): void {
  describe(`resmon/cluster on ${name}`, () => {
    let server: Server;
    beforeAll(async () => {
      server = await startServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    const open = (): LeaseStore => (server.store.kind === 'etcd' ? etcdLeases({ hosts: server.store.hosts, callTimeout: 1_000 }) : postgresLeases({ connectionString: server.store.connectionString, callTimeout: 1_000 }));

    it('the store: grants and releases are announced to watchers; the offline flag and the failover count outlive leases and are shared', async () => {
      const a = open();
      const b = open();
      const changes: LeaseChange[] = [];
      try {
        const unwatch = b.watch!((c) => changes.push(c));
        const unit = `u${Date.now()}`;
        // The watch connects in the background: keep granting until b has seen one.
        let grant = await a.acquire(unit, 'a', 5_000);
        for (let i = 0; changes.length === 0 && i < 40; i++) {
          await a.release(unit, 'a', grant!.token);
          await sleep(100);
          grant = await a.acquire(unit, 'a', 5_000);
        }
        await until('the grant announced', 3_000, () => changes.some((c) => c.holder?.token === grant!.token));
        expect(grant).toEqual({ token: expect.any(Number), offline: false });
        expect(changes.at(-1)).toMatchObject({ unit, holder: { node: 'a', token: grant!.token } });
        // Only the holder sets the offline flag; it stays for the next grant, by another member.
        expect(await b.setOffline(unit, 'b', grant!.token, true)).toBe(false);
        expect(await a.setOffline(unit, 'a', grant!.token, true)).toBe(true);
        await a.release(unit, 'a', grant!.token);
        await until('the release announced', 3_000, () => changes.at(-1)?.holder === null);
        expect(changes.at(-1)).toEqual({ unit, holder: null });
        const second = await b.acquire(unit, 'b', 5_000);
        expect(second).toEqual({ token: expect.any(Number), offline: true });
        expect(second!.token).toBeGreaterThan(grant!.token);
        // Failovers: 2 per 1.5 s for the whole cluster; b counts 2, then a (after taking the unit) is refused.
        expect(await b.countFailover(unit, 'b', second!.token, 2, 1_500)).toBe(true);
        expect(await b.countFailover(unit, 'b', second!.token, 2, 1_500)).toBe(true);
        expect(await b.countFailover(unit, 'b', second!.token, 2, 1_500)).toBe(false);
        await b.release(unit, 'b', second!.token);
        const third = await a.acquire(unit, 'a', 5_000);
        expect(await a.countFailover(unit, 'a', third!.token, 2, 1_500)).toBe(false);
        // Not the holder: refused whatever the count.
        expect(await b.countFailover(unit, 'b', second!.token, 5, 1_500)).toBe(false);
        // The window slides.
        await sleep(1_600);
        expect(await a.countFailover(unit, 'a', third!.token, 2, 1_500)).toBe(true);
        unwatch();
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('the store: a watcher hears grants again after the server restarts (the watch or LISTEN connection comes back)', async () => {
      const a = open();
      const b = open();
      const changes: LeaseChange[] = [];
      try {
        b.watch!((c) => changes.push(c));
        const unit = `w${Date.now()}`;
        /** Grants and releases the unit until b has heard a grant made after `since` changes. */
        const heard = async (since: number, ms: number) => {
          const end = Date.now() + ms;
          while (Date.now() < end) {
            const grant = await a.acquire(unit, 'a', 5_000).catch(() => null);
            if (grant) {
              await sleep(200);
              if (changes.slice(since).some((c) => c.unit === unit && c.holder?.token === grant.token)) return true;
              await a.release(unit, 'a', grant.token).catch(() => {});
            } else {
              await sleep(200);
            }
          }
          return false;
        };
        expect(await heard(0, 10_000)).toBe(true);
        await server.restart();
        const before = changes.length;
        expect(await heard(before, 15_000)).toBe(true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('the store: heartbeats list the live members until they leave or expire', async () => {
      const a = open();
      const b = open();
      const mine = async (store: LeaseStore) => (await store.members!()).filter((n) => n.startsWith('hb-'));
      try {
        await a.heartbeat!('hb-a', 2_000);
        await b.heartbeat!('hb-b', 60_000);
        await a.heartbeat!('hb-a', 2_000); // renewed: still one entry
        const renewedAt = Date.now();
        expect(await mine(b)).toEqual(['hb-a', 'hb-b']);
        await b.leave!('hb-b');
        expect(await mine(a)).toEqual(['hb-a']);
        // Not renewed: gone once it expires (etcd: its lease's whole seconds, plus up to 500 ms).
        let gone = 0;
        while ((await mine(b)).length > 0) {
          if (Date.now() - renewedAt > 5_000) throw new Error('hb-a never expired');
          await sleep(100);
        }
        gone = Date.now() - renewedAt;
        expect(gone).toBeGreaterThanOrEqual(1_900);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('the store: an expired lease frees the unit; members learn when (etcd announces the expiry, PostgreSQL tells how long is left)', async () => {
      const a = open();
      const b = open();
      const changes: { at: number; change: LeaseChange }[] = [];
      try {
        b.watch!((change) => changes.push({ at: Date.now(), change }));
        const unit = `x${Date.now()}`;
        await sleep(500);
        const grant = await a.acquire(unit, 'a', 2_000);
        const grantedAt = Date.now();
        const seen = await b.holder(unit);
        expect(seen).toMatchObject({ node: 'a', token: grant!.token });
        if (server.store.kind === 'postgres') {
          expect(seen!.expiresIn).toBeGreaterThan(1_500);
          expect(seen!.expiresIn).toBeLessThanOrEqual(2_000);
          await sleep(seen!.expiresIn! + 1);
          expect(await b.holder(unit)).toBeNull();
          expect(await b.acquire(unit, 'b', 2_000)).toMatchObject({ token: grant!.token + 1 });
        } else {
          // etcd deletes the key when the lease expires (its leader checks every 500 ms) and says so.
          const ended = await until('the expiry announced', 5_000, () => changes.find((c) => c.change.unit === unit && c.change.holder === null));
          console.log(`[${name}] a 2 s lease, not renewed: expiry announced ${ended.at - grantedAt} ms after the grant`);
          expect(ended.at - grantedAt).toBeGreaterThanOrEqual(1_900);
          expect(await b.holder(unit)).toBeNull();
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('three members: each unit on one; SIGKILL the owner -> up elsewhere within ttl (+ 500 ms on etcd) + 1 s with a higher token; SIGTERM hands over', async () => {
      const run = new ClusterRun(server.store, TTL);
      let final: ReturnType<typeof replay> | null = null;
      try {
        const members: Member[] = [];
        for (const node of ['a', 'b', 'c']) members.push(await run.spawn(node));
        const first = await until('svc and web online', 10_000, () => run.ownerOf('svc') !== null && run.ownerOf('app') !== null && run.ownerOf('db') !== null && run.ownerOf('svc'));
        expect(run.ownerOf('app')).toBe(run.ownerOf('db'));

        // SIGKILL the owner of svc.
        const victim = members.find((m) => m.node === first)!;
        const killedAt = await victim.kill();
        const second = await until('svc online elsewhere', TTL + 5_000, () => run.ownerOf('svc'));
        expect(second).not.toBe(first);
        const up = run.history().find((e) => e.resource === 'svc' && e.call === 'online' && e.node === second && e.at >= killedAt)!;
        if (!up) throw new Error(`no online of svc after the kill: ${JSON.stringify(run.history())}`);
        const failoverMs = up.at - killedAt;
        console.log(`[${name}] failover after SIGKILL: ${failoverMs} ms (ttl ${TTL})`);
        // The bound: the lease ends at most ttl after the kill (etcd: + its 500 ms expiry check), then one online.
        expect(failoverMs).toBeLessThanOrEqual(TTL + (name === 'etcd' ? 500 : 0) + 1_000);
        await until('web online', TTL + 5_000, () => run.ownerOf('app') !== null && run.ownerOf('db'));

        // SIGTERM the new owner: it takes svc offline, releases it, and the third member takes it.
        const next = members.find((m) => m.node === second)!;
        const stoppedAt = Date.now();
        await next.terminate();
        expect(next.child.exitCode).toBe(0);
        const third = await until('svc on the third member', TTL + 3_000, () => run.ownerOf('svc'));
        expect([first, second]).not.toContain(third);
        const handover = run.history().find((e) => e.resource === 'svc' && e.call === 'online' && e.node === third)!.at - stoppedAt;
        console.log(`[${name}] handover after SIGTERM (stop() releases): ${handover} ms`);
        expect(run.history().some((e) => e.node === second && e.resource === 'svc' && e.call === 'offline')).toBe(true);

        const tokens = run.history().filter((e) => e.resource === 'svc' && e.call === 'online').map((e) => e.token);
        expect(tokens).toHaveLength(3);
        expect(replay(run.history()).onlines).toBeGreaterThanOrEqual(5);
      } finally {
        final = replay(await run.close());
      }
      // Everything stopped gracefully at the end: the checker passes and nothing is left up.
      expect(final.up.size).toBe(0);
    });

    it('an owner cut off from the store (proxy closed) terminates its units before another member brings them up', async () => {
      const run = new ClusterRun(server.store, TTL);
      const proxy = await startProxy(server.port);
      let final: ReturnType<typeof replay> | null = null;
      try {
        const a = await run.spawn('a', server.via(proxy.port));
        await until('a owns svc and web', TTL + 5_000, () => run.ownerOf('svc') === 'a' && run.ownerOf('app') === 'a');
        await run.spawn('b');
        await run.spawn('c');
        const cutAt = Date.now();
        await proxy.cut();
        const other = await until('svc online on b or c', 2 * TTL + 5_000, () => { const o = run.ownerOf('svc'); return o !== 'a' && o; });
        const h = run.history();
        const terminated = h.find((e) => e.node === 'a' && e.resource === 'svc' && e.call === 'terminate')!;
        const up = h.find((e) => e.node === other && e.resource === 'svc' && e.call === 'online')!;
        expect(terminated).toBeDefined();
        expect(h.indexOf(terminated)).toBeLessThan(h.indexOf(up));
        console.log(`[${name}] cut off: owner terminated ${terminated.at - cutAt} ms after the cut, svc online elsewhere after ${up.at - cutAt} ms (gap ${up.at - terminated.at} ms)`);
        expect(terminated.at - cutAt).toBeLessThanOrEqual(TTL);
        expect(a.events.some((e) => e.event === 'lost' && e.unit === 'svc')).toBe(true);
        await until('web online elsewhere', 2 * TTL + 5_000, () => { const o = run.ownerOf('app'); return o !== 'a' && o; });
      } finally {
        final = replay(await run.close());
      }
      expect(final.up.size).toBe(0);
    });

    it('failbackDelay: the preferred node that comes back gets its units back; the others hand them over gracefully', async () => {
      const run = new ClusterRun(server.store, TTL);
      const options = { preferredNodes: { svc: ['a', 'b', 'c'], web: ['a', 'b', 'c'] }, failbackDelay: 1_000 };
      let final: ReturnType<typeof replay> | null = null;
      try {
        const a = await run.spawn('a', server.store, options);
        await until('a owns svc and web', TTL + 5_000, () => run.ownerOf('svc') === 'a' && run.ownerOf('app') === 'a');
        await run.spawn('b', server.store, options);
        await run.spawn('c', server.store, options);
        await a.terminate();
        // b, next in the list, takes both at once.
        await until('b owns svc and web', TTL + 5_000, () => run.ownerOf('svc') === 'b' && run.ownerOf('app') === 'b');
        // A join is a node absent at one of b's rounds (every ttl / 3) and present at the next: a
        // node back sooner than one round is not seen to leave (README, Failback). Let b see a gone.
        await sleep((2 * TTL) / 3);
        const backAt = Date.now();
        await run.spawn('a', server.store, options);
        // b sees a join at its next round, waits failbackDelay, then gives both units back.
        await until('a owns svc and web again', TTL + 5_000, () => run.ownerOf('svc') === 'a' && run.ownerOf('app') === 'a' && run.ownerOf('db') === 'a');
        const h = run.history();
        const up = h.find((e) => e.node === 'a' && e.resource === 'svc' && e.call === 'online' && e.at >= backAt)!;
        console.log(`[${name}] failback: svc online on the preferred node ${up.at - backAt} ms after it started again (failbackDelay 1000, ttl ${TTL})`);
        expect(h.some((e) => e.node === 'b' && e.resource === 'svc' && e.call === 'offline' && e.at >= backAt)).toBe(true);
        expect(run.ownerOf('svc')).toBe('a');
      } finally {
        final = replay(await run.close());
      }
      expect(final.up.size).toBe(0);
    });

    it('escalation fails a unit over, counted cluster-wide: threshold 2 moves it twice, then it stays where it failed', async () => {
      const run = new ClusterRun(server.store, TTL);
      // svc fails on a and b (no restarts: it escalates at once); c runs it.
      const options = { preferredNodes: { svc: ['a', 'b', 'c'] }, failoverThreshold: 2, failOn: ['a', 'b'] };
      let final: ReturnType<typeof replay> | null = null;
      try {
        const c = await run.spawn('c', server.store, options);
        await until('c owns svc', TTL + 5_000, () => run.ownerOf('svc') === 'c');
        const a = await run.spawn('a', server.store, options);
        const b = await run.spawn('b', server.store, options);
        // c stops: a (first after c) takes svc, fails, fails it over to b (count 1), which fails and fails it over (count 2);
        // a takes it again once its ttl away is over, fails, and keeps it: the count is spent.
        await c.terminate();
        const failovers = () => [...a.events, ...b.events].filter((e) => e.event === 'failover' && e.unit === 'svc').map((e) => e.node);
        await until('two failovers', 3 * TTL + 5_000, () => failovers().length >= 2);
        await until('svc tried on a a second time', 3 * TTL + 5_000, () => run.history().filter((e) => e.resource === 'svc' && e.call === 'online' && e.node === 'a').length >= 2);
        await sleep(TTL);
        console.log(`[${name}] escalations failed svc over: ${failovers().join(', ')} (failoverThreshold 2, counted in the store)`);
        expect(failovers()).toEqual(['a', 'b']);
        expect(run.history().filter((e) => e.resource === 'svc' && e.call === 'online').map((e) => e.node)).toEqual(['c', 'a', 'b', 'a']);
        expect(run.ownerOf('svc')).toBeNull();
      } finally {
        final = replay(await run.close());
      }
      expect(final.up.size).toBe(0);
    });

    it('a store restart: members carry on or recover, never two owners', async () => {
      const run = new ClusterRun(server.store, TTL);
      let final: ReturnType<typeof replay> | null = null;
      try {
        for (const node of ['a', 'b', 'c']) await run.spawn(node);
        await until('svc and web online', 2 * TTL + 5_000, () => run.ownerOf('svc') !== null && run.ownerOf('app') !== null);
        const restartedAt = Date.now();
        await server.restart();
        console.log(`[${name}] store restarted in ${Date.now() - restartedAt} ms`);
        // Within a few ttl of the restart, both units are up again, each on one member.
        await until('svc and web online after the restart', 3 * TTL + 5_000, () => run.ownerOf('svc') !== null && run.ownerOf('app') !== null && run.ownerOf('db') !== null);
        // And they stay up: ownership settles (no flapping over the next rounds).
        const settled = run.history().length;
        await new Promise((r) => setTimeout(r, TTL));
        const after = run.history().slice(settled);
        expect(after.filter((e) => e.call === 'online')).toEqual([]);
      } finally {
        final = replay(await run.close());
      }
      expect(final.up.size).toBe(0);
    });
  });
}
