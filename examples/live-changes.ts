// Live changes and control codes: change a running resource's properties and policy without
// restarting it, and ask it (or the monitor) questions with control codes. A fake clock drives
// the monitor, so this prints the same lines every time, at once.
import { DEFAULT_PROCESSING, ResourceMonitor, type ResourceType } from 'resmon';
import { createFakeClock } from 'resmon/testing';

interface Props {
  port: number;
  workers: number;
}

/** A pretend server: the number of workers can change while it runs, the port cannot. */
const server: ResourceType<Props, { workers: number }> = {
  name: 'server',
  validate(p) {
    const { port, workers = 1 } = p as Partial<Props>;
    if (!Number.isInteger(port) || port! < 1 || port! > 65_535) throw new Error('port must be an integer 1..65535');
    if (!Number.isInteger(workers) || workers < 1) throw new Error('workers must be an integer >= 1');
    return { port: port!, workers };
  },
  open: () => ({ workers: 0 }),
  online: (ctx) => {
    ctx.handle.workers = ctx.properties.workers;
    console.log(`${clock.now()}: listening on ${ctx.properties.port} with ${ctx.properties.workers} workers`);
  },
  offline: () => {},
  terminate: () => {},
  isAlive: () => true,
  applyProperties(ctx, next, previous) {
    if (next.port !== previous.port) return 'stored'; // rebinding needs a restart
    ctx.handle.workers = next.workers; // resize the pool in place
    return undefined;
  },
  control(ctx, code) {
    if (code === 'workers') return ctx.handle?.workers ?? 0;
    return DEFAULT_PROCESSING; // get-properties, get-policy, get-status: the monitor answers
  },
  typeControl: (code) => (code === 'version' ? '2.1.0' : DEFAULT_PROCESSING),
};

const clock = createFakeClock();
const monitor = new ResourceMonitor({ clock, defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 10_000 } });
monitor.on('check', (e) => console.log(`${e.at}: ${e.kind} ${e.ok ? 'ok' : 'failed'}`));
monitor.registerType(server);
monitor.addResource({ name: 'web', type: 'server', properties: { port: 8080, workers: 2 } });
await monitor.online('web');

await clock.advance(2_000);
console.log(`${clock.now()}: setProperties workers 4 -> ${await monitor.setProperties('web', { port: 8080, workers: 4 })}`);
console.log(`${clock.now()}: control workers -> ${await monitor.control('web', 'workers')}`);
console.log(`${clock.now()}: setProperties port 9090 -> ${await monitor.setProperties('web', { port: 9090, workers: 4 })}`);
await monitor.setProperties('web', { port: 0, workers: 4 }).catch((e: Error) => console.log(`${clock.now()}: ${e.name}: ${e.message}`));
console.log(`${clock.now()}: get-properties -> ${JSON.stringify(await monitor.control('web', 'get-properties'))}`);

await monitor.setPolicy('web', { isAlivePollInterval: 3_000 }); // re-armed from now: next check at 5000
await clock.advance(6_000);
console.log(`${clock.now()}: get-policy isAlivePollInterval -> ${((await monitor.control('web', 'get-policy')) as { isAlivePollInterval: number }).isAlivePollInterval}`);
await monitor.control('web', 'flush-cache').catch((e: Error) => console.log(`${clock.now()}: ${e.name}: ${e.message}`));
console.log(`${clock.now()}: controlType version -> ${await monitor.controlType('server', 'version')}`);

await monitor.offline('web');
await monitor.online('web'); // the stored port takes effect
await monitor.close();
