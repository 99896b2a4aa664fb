/**
 * Randomized runs: three members (with preferredNodes and failback), each reaching the store
 * through a TCP proxy of its own; at
 * random moments a member is SIGKILLed or SIGTERMed (and started again), cut off from the store
 * (and healed), a unit is taken offline cluster-wide (or brought back) through `member.offline()` /
 * `online()`, or the store restarts. A unit taken offline must not come online anywhere until it
 * is brought back. Afterwards everything heals; within a few ttl both units
 * are online on one member each, and the history checker proves that no unit was ever online on
 * two members at once and that tokens only grew.
 *
 * CLUSTER_SEED=n replays a run; CLUSTER_RANDOM_MS (default 25 000) is the chaos phase per store.
 */
import { describe, expect, it } from 'vitest';
import { ClusterRun, type Member, replay, type Server, sleep, startEtcd, startPostgres, startProxy, until } from '../integration/cluster-harness.js';

const TTL = 3_000;
/** Every member prefers a for svc and c for web, and gives units back to a preferred node 1.5 s after it returns. */
const options = { preferredNodes: { svc: ['a', 'b', 'c'], web: ['c', 'b', 'a'] }, failbackDelay: 1_500 };
const seed = Number(process.env.CLUSTER_SEED ?? Date.now() % 1_000_000);
const chaosMs = Number(process.env.CLUSTER_RANDOM_MS ?? 25_000);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
function prng(a: number): () => number {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const [name, start] of [['etcd', startEtcd], ['PostgreSQL', startPostgres]] as const) {
  describe(`randomized runs on ${name}`, () => {
    it(`seed ${seed}: kills, cuts and store restarts for ${chaosMs} ms; never two owners`, async () => {
      const random = prng(seed);
      const server: Server = await start();
      const run = new ClusterRun(server.store, TTL);
      const nodes = ['a', 'b', 'c'];
      const proxies = await Promise.all(nodes.map(() => startProxy(server.port)));
      const members = new Map<string, Member>();
      const log: string[] = [];
      let final: ReturnType<typeof replay> | null = null;
      /** Units taken offline cluster-wide (since when), and the closed intervals: no online of theirs may fall inside one. */
      const offlineSince = new Map<string, number>();
      const offlineIntervals: { unit: string; from: number; to: number }[] = [];
      const pendingOnline = new Set<string>();
      const resourcesOf = (unit: string) => (unit === 'web' ? ['db', 'app'] : [unit]);
      /** Sends the command to every running member (only the owner can do it): true if one did. */
      const command = async (how: 'offline' | 'online', unit: string) => {
        const results = await Promise.all([...members.values()].map((m) => m.command(how, unit)));
        return results.includes(true);
      };
      /** online(unit) until a member (its owner) does it, for up to `ms`. */
      const bringBack = async (unit: string, ms: number) => {
        const end = Date.now() + ms;
        for (;;) {
          if (await command('online', unit)) return true;
          if (Date.now() >= end) return false;
          await sleep(300);
        }
      };
      const checkOffline = () => {
        const intervals = [...offlineIntervals, ...[...offlineSince].map(([unit, from]) => ({ unit, from, to: Number.POSITIVE_INFINITY }))];
        for (const e of run.history()) {
          if (e.call !== 'online') continue;
          const hit = intervals.find((i) => resourcesOf(i.unit).includes(e.resource) && e.at > i.from && e.at < i.to);
          if (hit) throw new Error(`${e.resource} came online on ${e.node} at ${e.at} while ${hit.unit} was offline cluster-wide (${hit.from} to ${hit.to})`);
        }
      };
      try {
        for (const [i, node] of nodes.entries()) members.set(node, await run.spawn(node, server.via(proxies[i]!.port), options));
        const end = Date.now() + chaosMs;
        while (Date.now() < end) {
          await sleep(300 + random() * 2_500);
          const i = Math.floor(random() * nodes.length);
          const node = nodes[i]!;
          const r = random();
          const t = Date.now();
          if (r < 0.25) {
            log.push(`${t} kill ${node}`);
            await members.get(node)!.kill();
            await sleep(random() * 2_000);
            members.set(node, await run.spawn(node, server.via(proxies[i]!.port), options));
          } else if (r < 0.4) {
            log.push(`${t} stop ${node}`);
            await members.get(node)!.terminate();
            members.set(node, await run.spawn(node, server.via(proxies[i]!.port), options));
          } else if (r < 0.7) {
            // Offline (cluster-wide) or back online, through whichever member owns the unit.
            const unit = random() < 0.5 ? 'svc' : 'web';
            const back = offlineSince.has(unit);
            log.push(`${t} ${back ? 'online' : 'offline'} ${unit}`);
            if (back) {
              offlineIntervals.push({ unit, from: offlineSince.get(unit)!, to: Date.now() });
              offlineSince.delete(unit);
              if (!(await bringBack(unit, 0))) pendingOnline.add(unit);
            } else if (await command('offline', unit)) {
              offlineSince.set(unit, Date.now());
            }
          } else if (r < 0.85) {
            log.push(`${t} cut ${node}`);
            await proxies[i]!.cut();
            await sleep(500 + random() * 4_000);
            log.push(`${Date.now()} heal ${node}`);
            await proxies[i]!.heal();
          } else {
            log.push(`${t} restart store`);
            await server.restart();
          }
          // The invariant holds at every moment, not only at the end.
          replay(run.history());
          checkOffline();
        }
        await Promise.all(proxies.map((p) => p.heal()));
        for (const [unit, from] of offlineSince) {
          offlineIntervals.push({ unit, from, to: Date.now() });
          pendingOnline.add(unit);
        }
        offlineSince.clear();
        for (const unit of pendingOnline) if (!(await bringBack(unit, 4 * TTL + 10_000))) throw new Error(`no member brought ${unit} back online`);
        checkOffline();
        await until('svc and web online after the chaos', 4 * TTL + 10_000, () => run.ownerOf('svc') !== null && run.ownerOf('app') !== null && run.ownerOf('db') !== null);
        expect(run.ownerOf('app')).toBe(run.ownerOf('db'));
      } catch (error) {
        throw new Error(`seed ${seed} (replay with CLUSTER_SEED=${seed}); actions:\n${log.join('\n')}\n${String(error)}`, { cause: error });
      } finally {
        final = replay(await run.close());
        await Promise.all(proxies.map((p) => p.cut()));
        await server.stop();
        const kinds = log.map((l) => l.split(' ')[1]).reduce<Record<string, number>>((n, k) => ({ ...n, [k!]: (n[k!] ?? 0) + 1 }), {});
        console.log(`[${name}] seed ${seed}: ${log.length} actions (${JSON.stringify(kinds)}), ${final.onlines} onlines checked`);
      }
      expect(final.up.size).toBe(0);
    });
  });
}
