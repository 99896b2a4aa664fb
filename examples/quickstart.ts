// A resource type written from scratch (examples/echo-type.ts), registered on a monitor,
// brought online, polled on both schedules, taken offline.
import { ResourceMonitor } from 'resmon';
import { echoType } from './echo-type.js';

const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 200, isAlivePollInterval: 1_000 } });
monitor.on('stateChange', (e) => console.log(`${e.resource}: ${e.from} -> ${e.to} (${e.reason})`));
monitor.on('check', (e) => console.log(`${e.resource}: ${e.kind} ${e.ok ? 'ok' : `failed: ${e.reason}`} in ${e.durationMs} ms`));

monitor.registerType(echoType);
monitor.addResource({ name: 'echo', type: 'echo-server', properties: { port: 0 } });
await monitor.online('echo');
await new Promise((resolve) => setTimeout(resolve, 1_100)); // a few looksAlive polls and one isAlive
console.log(monitor.inspect('echo').lastChecks.isAlive?.ok ? 'echo is healthy' : 'echo is NOT healthy');
await monitor.offline('echo');
await monitor.close();
