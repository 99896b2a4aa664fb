// An HA supervisor's reflex, written as a listener: when the primary fails, take it offline (the
// monitor finishes the failure's terminate first) and bring the standby online. A call made from
// a listener acts a microtask later, once the transition that emitted the event is complete.
// After close(), the read-only calls still answer with the final states, for a last log line.
import { ResourceMonitor, type ResourceType } from 'resmon';
import { createFakeClock } from 'resmon/testing';

const healthy = new Map<string, boolean>();
const node: ResourceType = {
  name: 'node',
  online: (ctx) => void healthy.set(ctx.resource, true),
  offline: (ctx) => void healthy.set(ctx.resource, false),
  terminate: (ctx) => void healthy.set(ctx.resource, false),
  isAlive: (ctx) => healthy.get(ctx.resource) === true,
};

const clock = createFakeClock();
const monitor = new ResourceMonitor({ clock, defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 1_000, restartAction: 'none' } });
monitor.registerType(node);
monitor.addResource({ name: 'primary', type: 'node' });
monitor.addResource({ name: 'standby', type: 'node' });

monitor.on('stateChange', (e) => {
  console.log(`${e.at}: ${e.resource} ${e.from} -> ${e.to} (${e.reason})`);
  if (e.resource === 'primary' && e.to === 'failed') {
    void monitor.offline('primary');
    void monitor.online('standby');
  }
});
// A listener that throws is logged; the listeners after it still get every event.
monitor.on('stateChange', () => {
  throw new Error('a buggy dashboard listener');
});

await monitor.online('primary');
healthy.set('primary', false); // the primary dies
await clock.advance(1_000); // the next isAlive sees it
await clock.advance(0);
await monitor.close();
for (const s of monitor.snapshot()) console.log(`final: ${s.name} ${s.state} (generation ${s.generation})`);
