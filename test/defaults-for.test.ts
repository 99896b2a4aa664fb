// ResourceType.defaultsFor: type-level policy that depends on a resource's properties (what the
// `ocf` type uses for an agent's advertised timeouts and intervals).
import { describe, expect, it } from 'vitest';
import { isConfigError, type ResourceType } from 'resmon';
import { TestMonitor } from './helpers/monitor.js';

interface Props {
  slow: boolean;
}

const type: ResourceType<Props> = {
  name: 'derived',
  defaults: { pendingTimeout: 1_000, restartDelay: 7 },
  validate: (p) => ({ slow: (p as { slow?: unknown }).slow === true }),
  defaultsFor: (p) => (p.slow ? { pendingTimeout: 600_000, isAlivePollInterval: 30_000 } : undefined),
  online() {},
  offline() {},
  terminate() {},
  isAlive: () => true,
};


describe('defaultsFor', () => {
  it('layers between the resource policy and the type defaults', async () => {
    await using monitor = new TestMonitor({ defaults: { pendingTimeout: 5, isAlivePollInterval: 5 } });
    monitor.registerType(type);
    monitor.addResource({ name: 'slow', type: 'derived', properties: { slow: true } });
    monitor.addResource({ name: 'fast', type: 'derived', properties: { slow: false } });
    monitor.addResource({ name: 'own', type: 'derived', properties: { slow: true }, policy: { pendingTimeout: 42 } });
    const resolved = async (name: string) => (await monitor.control(name, 'get-policy')) as Record<string, unknown>;
    const slow = await resolved('slow');
    expect([slow.pendingTimeout, slow.isAlivePollInterval, slow.restartDelay]).toEqual([600_000, 30_000, 7]);
    const fast = await resolved('fast');
    expect([fast.pendingTimeout, fast.isAlivePollInterval]).toEqual([1_000, 5]);
    expect((await resolved('own')).pendingTimeout).toBe(42);
    await monitor.close();
  });

  it('is kept by setPolicy and derived again by setProperties', async () => {
    await using monitor = new TestMonitor();
    monitor.registerType(type);
    monitor.addResource({ name: 'r', type: 'derived', properties: { slow: true } });
    await monitor.setPolicy('r', { restartDelay: 1 });
    expect(await monitor.control('r', 'get-policy')).toMatchObject({ pendingTimeout: 600_000, restartDelay: 1 });
    await monitor.setProperties('r', { slow: false });
    expect(await monitor.control('r', 'get-policy')).toMatchObject({ pendingTimeout: 1_000, isAlivePollInterval: 60_000, restartDelay: 1 });
    await monitor.close();
  });

  it('gets the validated properties, and an invalid layer is a ConfigError naming the field', async () => {
    await using monitor = new TestMonitor();
    monitor.registerType({ ...type, defaultsFor: () => ({ pendingTimeout: -1 }) });
    let caught: unknown;
    try {
      monitor.addResource({ name: 'x', type: 'derived' });
    } catch (error) {
      caught = error;
    }
    expect(isConfigError(caught) && caught.field).toBe('defaults.pendingTimeout');
    expect(monitor.snapshot()).toEqual([]);
    await monitor.close();
  });

  it('must be a function when present', async () => {
    await using monitor = new TestMonitor();
    expect(() => monitor.registerType({ ...type, defaultsFor: 5 as never })).toThrow(/type.defaultsFor must be a function/);
  });
});
