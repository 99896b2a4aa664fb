// Pacemaker's heartbeat/Dummy agent (Debian: apt-get install resource-agents) as a resmon resource:
// its parameters checked against its meta-data, start -> online, monitor -> the checks, a state
// file removed behind its back -> OCF_NOT_RUNNING -> failed and restarted, stop -> offline.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ocfType, ResourceMonitor } from 'resmon';

const state = path.join(tmpdir(), `resmon-example-dummy-${process.pid}.state`);
const monitor = new ResourceMonitor({ defaults: { restartDelay: 100 } });
monitor.on('stateChange', (e) => console.log(`${e.resource}: ${e.from} -> ${e.to} (${e.reason})`));

monitor.registerType(ocfType);
monitor.addResource({
  name: 'dummy',
  type: 'ocf',
  properties: { agent: 'heartbeat/Dummy', params: { state } },
  policy: { isAlivePollInterval: 500 }, // Dummy advertises a 10 s monitor interval; poll faster here
});
await monitor.online('dummy');
rmSync(state); // its next monitor answers 7 (OCF_NOT_RUNNING): failed, then restarted
await monitor.waitFor('dummy', 'failed', { timeout: 5_000 });
await monitor.waitFor('dummy', 'online', { timeout: 5_000 });
console.log(`restarts: ${monitor.inspect('dummy').restarts.total}`);
await monitor.close(); // stop
