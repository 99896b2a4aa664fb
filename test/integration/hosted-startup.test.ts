import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { ResourceMonitor } from 'resmon';

const SCRIPTED = fileURLToPath(new URL('../fixtures/hosted/scripted.ts', import.meta.url));

for (const isolation of ['worker', 'process'] as const) {
  it(`does not count a ${isolation} host's start-up in the first call's deadline`, async () => {
    // A host takes 50-300 ms to start; the first call gets 100 ms.
    const monitor = new ResourceMonitor({ defaults: { deadlockTimeout: 100, pendingTimeout: 100 } });
    await monitor.registerType({ module: SCRIPTED, exportName: 'scripted', isolation });
    monitor.addResource({ name: 'a', type: 'scripted' });
    await monitor.online('a');
    expect(monitor.getState('a')).toBe('online');
    expect(monitor.inspect('a').host).toMatch(new RegExp(`^${isolation}-`));
    await monitor.close();
  }, 30_000);
}
