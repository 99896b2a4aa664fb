/**
 * Issue 10 §2 in isolation hosts: hostile values thrown, rejected, returned, reported and logged
 * by a hosted plugin, and thrown by its validate(), never kill the host. Real worker threads and
 * child processes; every wait is on an event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isConfigError, ResourceMonitor, type ResourceMonitorEvents } from 'resmon';
import { HOSTILE_KINDS } from '../helpers/hostile.js';
import type { HostileProperties } from '../fixtures/hosted/hostile.js';

const MODULE = new URL('../fixtures/hosted/hostile.ts', import.meta.url).href;
const WHERE: HostileProperties['where'][] = ['online', 'isAlive-throw', 'isAlive-return', 'reportFailure'];

let monitor: ResourceMonitor | null = null;
afterEach(async () => {
  await monitor?.close();
  monitor = null;
});

for (const isolation of ['worker', 'process'] as const) {
  describe(`a ${isolation} host`, () => {
    it('survives every hostile value from the plugin: each resource fails as it should, the host never exits', { timeout: 60_000 }, async () => {
      const errors: unknown[][] = [];
      const noop = () => {};
      monitor = new ResourceMonitor({
        abortGrace: 200,
        logger: { debug: noop, info: noop, warn: noop, error: (...args: unknown[]) => void errors.push(args) },
        defaults: {
          looksAlivePollInterval: 0,
          isAlivePollInterval: 100,
          restartAction: 'none',
          deadlockTimeout: 10_000,
          pendingTimeout: 10_000,
        },
      });
      const m = monitor;
      const exits: Parameters<ResourceMonitorEvents['hostExit']>[0][] = [];
      m.on('hostExit', (e) => exits.push(e));
      await m.registerType({ module: MODULE, exportName: 'hostileType', isolation });

      // validate() runs in the host, at the first call: the attempt fails with a ConfigError.
      for (const kind of HOSTILE_KINDS) {
        m.addResource({ name: `validate-${kind}`, type: 'hostile', properties: { kind, where: 'online', validate: true } });
        const error = await m.online(`validate-${kind}`).then(
          () => null,
          (e: unknown) => e,
        );
        expect(isConfigError(error), `validate throwing ${kind}: ${String(error)}`).toBe(true);
      }

      const names: string[] = [];
      for (const kind of HOSTILE_KINDS) {
        for (const where of WHERE) {
          const name = `${where}-${kind}`;
          names.push(name);
          m.addResource({ name, type: 'hostile', properties: { kind, where } });
        }
      }
      const failed = new Set<string>();
      const allFailed = new Promise<void>((resolve) => {
        m.on('stateChange', (e) => {
          if (e.to !== 'failed') return;
          failed.add(e.resource);
          if (names.every((n) => failed.has(n))) resolve();
        });
      });
      const results = await Promise.all(names.map((n) => m.online(n).then(() => 'online', (e: unknown) => e)));
      names.forEach((n, i) => {
        if (n.startsWith('online-')) expect(results[i], n).toBeInstanceOf(Error);
        else expect(results[i], n).toBe('online');
      });
      await allFailed;
      for (const n of names) expect(m.getState(n), n).toBe('failed');
      // Offline (the plugin's offline and terminate reject with the hostile value): every one ends offline.
      await Promise.all(names.map((n) => m.offline(n)));
      for (const n of names) expect(m.getState(n), n).toBe('offline');
      expect(exits).toEqual([]);
      await m.close();
      expect(exits).toEqual([]);
      monitor = null;
    });
  });
}
