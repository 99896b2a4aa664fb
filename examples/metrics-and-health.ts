// Metrics and health probes for a monitor in your own service: Prometheus metrics
// (resmon/prometheus, with prom-client), /livez and /readyz (healthHandler), and the
// diagnostics channel, on one node:http server.
import diagnosticsChannel from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { healthHandler, ResourceMonitor } from 'resmon';
import { collect } from 'resmon/prometheus';
import { echoType } from './echo-type.js';

diagnosticsChannel.subscribe('resmon:stateChange', (message) => {
  const e = message as { resource: string; from: string; to: string };
  console.log(`channel: ${e.resource} ${e.from} -> ${e.to}`);
});

const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 100, isAlivePollInterval: 500 } });
monitor.registerType(echoType);
monitor.addResource({ name: 'echo', type: 'echo-server', properties: { port: 0 } });

const registry = new Registry();
const stopMetrics = collect(monitor, { registry });
const health = healthHandler(monitor);
const server = createServer(async (req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  } else {
    health(req, res); // /livez, /readyz; 404 for the rest
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const readyz = async () => {
  const res = await fetch(`${base}/readyz`);
  return `${res.status} ${await res.text()}`.trim();
};
console.log(`readyz before online() (nothing is wanted online yet): ${await readyz()}`);
await monitor.online('echo');
console.log(`readyz when online: ${await readyz()}`);
await new Promise((r) => setTimeout(r, 600)); // a few checks
const metrics = await (await fetch(`${base}/metrics`)).text();
console.log(metrics.split('\n').filter((l) => l.startsWith('resmon_resource_state{') && l.endsWith(' 1')).join('\n'));
console.log(metrics.split('\n').find((l) => l.startsWith('resmon_check_duration_seconds_count{kind="isAlive"')));

stopMetrics();
await monitor.close();
console.log(`livez after close: ${(await fetch(`${base}/livez`)).status}`);
server.close();
