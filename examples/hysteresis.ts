// Hysteresis and forgiveness: one failed probe is not a failure, three in a row are; after 10 s
// of clean running the back-off starts over. A fake clock drives the monitor, so this prints the
// same timeline every time, at once.
import { ResourceMonitor, type ResourceType } from 'resmon';
import { createFakeClock } from 'resmon/testing';

let healthy = true;
const flaky: ResourceType = {
  name: 'flaky',
  online: () => {
    healthy = true; // a restart brings it back
  },
  offline: () => {},
  terminate: () => {},
  isAlive: () => healthy,
};

const clock = createFakeClock();
const monitor = new ResourceMonitor({
  clock,
  defaults: {
    isAlivePollInterval: 1_000,
    looksAlivePollInterval: 300, // after a failed probe, the next comes this soon
    isAliveFailureThreshold: 3, // three failed probes in a row fail the resource
    restartDelay: 500,
    restartBackoff: 2,
    restartThreshold: 3,
    stableAfter: 10_000, // 10 s online empties the restart window
  },
});
monitor.on('check', (e) => !e.ok && console.log(`${e.at}: ${e.kind} failed, ${e.consecutiveFailures} in a row`));
monitor.on('stateChange', (e) => console.log(`${e.at}: ${e.from} -> ${e.to} (${e.reason})`));
monitor.on('restartScheduled', (e) => console.log(`${e.at}: restart ${e.attempt} in ${e.delayMs} ms`));
monitor.registerType(flaky);
monitor.addResource({ name: 'web', type: 'flaky' });
await monitor.online('web');

healthy = false;
await clock.advance(1_000); // one bad probe at 1000: still online
healthy = true;
await clock.advance(300); // the probe at 1300 passes: the count is 0 again
healthy = false;
await clock.advance(1_600); // 2300, 2600, 2900: three in a row, failed, restarted at 3400
await clock.advance(500);
healthy = false;
await clock.advance(1_000 + 300 + 300); // 4400, 4700, 5000: failed again, restart 2 backs off
await clock.advance(1_000);
console.log(`${clock.now()}: restarts ${JSON.stringify(monitor.inspect('web').restarts)}`);
await clock.advance(10_000); // online since 6000: stable at 16000
console.log(`${clock.now()}: restarts ${JSON.stringify(monitor.inspect('web').restarts)}`);
healthy = false;
await clock.advance(1_000 + 300 + 300); // failed again: restart 1 after restartDelay, not 2 000 ms
await monitor.close();
