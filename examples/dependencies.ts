// Dependencies and groups: an application that needs its network name, which needs its IP
// address (the WSFC example), in one group. A fake clock drives the monitor, so this prints the
// same event sequence every time, at once.
import { ResourceMonitor, type ResourceType } from 'resmon';
import { createFakeClock } from 'resmon/testing';

const down = new Set<string>(); // resources whose isAlive fails (a lost address)
const step: ResourceType = {
  name: 'step',
  online: (ctx) => {
    down.delete(ctx.resource); // bringing it online repairs it
  },
  offline: () => {},
  terminate: () => {},
  isAlive: (ctx) => !down.has(ctx.resource),
};

const clock = createFakeClock();
const monitor = new ResourceMonitor({ clock, defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 1_000, restartDelay: 500 } });
monitor.registerType(step);
monitor.addResource({ name: 'ip', type: 'step', group: 'web' });
monitor.addResource({ name: 'name', type: 'step', group: 'web', dependsOn: ['ip'] });
monitor.addResource({ name: 'app', type: 'step', group: 'web', dependsOn: ['name'] });

monitor.on('stateChange', (e) => console.log(`${e.at}: ${e.resource} ${e.from} -> ${e.to} (${e.reason})`));
monitor.on('groupStateChange', (e) => console.log(`${e.at}: group ${e.group} ${e.from} -> ${e.to}`));

console.log('-- online("app"): ip, then name, then app');
await monitor.online('app');

console.log('-- ip fails: app, then name, taken offline; ip restarts; they come back');
down.add('ip');
await clock.advance(1_500);
console.log(`targets: ${monitor.snapshot().map((s) => `${s.name}=${s.target}`).join(' ')}`);

console.log('-- offlineGroup("web"): app, then name, then ip');
await monitor.offlineGroup('web');
console.log(`group: ${JSON.stringify(monitor.groupStatus('web'))}`);
await monitor.close();
