// npm run demo: a real monitor supervising three real HTTP servers (child processes), with
// failures injected on a timeline, and every state change printed as it happens.
//
//   web     is killed at 3 s: looksAlive sees the process gone, isAlive confirms at once,
//           the monitor terminates it and restarts it after restartDelay.
//   frozen  is frozen (SIGSTOP) at 6 s: looksAlive still passes (the process exists) but the
//           isAlive request hangs past deadlockTimeout, so it fails and is restarted.
//   crashy  exits by itself 1.2 s after each start and reports it with ctx.reportFailure: it is
//           restarted twice, then its restart threshold is spent and it escalates.
import { type ResourceMonitorEvents, ResourceMonitor } from 'resmon';
import { httpServerType } from './http-server-type.js';

const start = Date.now();
const stamp = () => `+${((Date.now() - start) / 1000).toFixed(2).padStart(5)}s`;
const say = (resource: string, text: string) => console.log(`${stamp()}  ${resource.padEnd(7)} ${text}`);

// The plugin logs each server's pid through ctx.log; the demo keeps them so it can inject
// failures from outside, as an operator (or the kernel) would.
const pids = new Map<string, number>();
const logger = {
  debug() {},
  warn() {},
  error() {},
  info(fields: unknown) {
    const { resource, pid } = fields as { resource?: string; pid?: number };
    if (resource && pid) pids.set(resource, pid);
  },
};

const monitor = new ResourceMonitor({
  logger,
  defaults: {
    looksAlivePollInterval: 500,
    isAlivePollInterval: 2_000,
    deadlockTimeout: 1_500,
    restartDelay: 1_000,
    restartThreshold: 2,
    restartPeriod: 30_000,
    retryPeriodOnFailure: 60_000,
  },
});

const on = <K extends keyof ResourceMonitorEvents>(event: K, listener: ResourceMonitorEvents[K]) =>
  monitor.on(event, listener as never);
on('stateChange', (e) => say(e.resource, `${e.from} -> ${e.to}  (${e.reason})`));
on('check', (e) => {
  if (!e.ok) say(e.resource, `${e.kind} failed: ${e.reason}`);
});
on('callTimeout', (e) => say(e.resource, `${e.entryPoint} passed its ${e.timeoutMs} ms deadline: abandoned`));
on('restartScheduled', (e) =>
  say(e.resource, e.retry ? `retry scheduled in ${e.delayMs / 1000} s` : `restart ${e.attempt} scheduled in ${e.delayMs} ms`),
);
on('escalated', (e) => say(e.resource, `ESCALATED: ${e.restarts} restarts within ${e.periodMs / 1000} s; an HA supervisor would fail over now`));

monitor.registerType(httpServerType);
monitor.addResource({ name: 'web', type: 'example-http-server', properties: { watchExit: false } });
monitor.addResource({ name: 'frozen', type: 'example-http-server', properties: { watchExit: false } });
monitor.addResource({ name: 'crashy', type: 'example-http-server', properties: { crashAfterMs: 1_200 } });

console.log('resmon demo: three HTTP servers, three kinds of failure; Ctrl-C to stop early\n');
await Promise.all(['web', 'frozen', 'crashy'].map((name) => monitor.online(name)));

const at = (ms: number, fn: () => void) => setTimeout(fn, ms - (Date.now() - start));
at(3_000, () => {
  say('web', '*** demo: killing the server process (SIGKILL)');
  process.kill(pids.get('web')!, 'SIGKILL');
});
at(6_000, () => {
  say('frozen', '*** demo: freezing the server process (SIGSTOP)');
  process.kill(pids.get('frozen')!, 'SIGSTOP');
});

const stop = async () => {
  console.log(`\n${stamp()}  closing the monitor: every resource goes offline\n`);
  await monitor.close();
};
process.once('SIGINT', () => void stop().then(() => process.exit(130)));

await new Promise((resolve) => at(14_000, () => resolve(undefined)));
console.log(`\n${stamp()}  status:`);
console.log('  name     state      generation  restarts  next restart');
for (const s of monitor.snapshot()) {
  const next = s.nextRestartAt === null ? '-' : `in ${Math.round((s.nextRestartAt - Date.now()) / 1000)} s`;
  console.log(`  ${s.name.padEnd(8)} ${s.state.padEnd(10)} ${String(s.generation).padStart(10)}  ${String(s.restarts.total).padStart(8)}  ${next}`);
}
await stop();
console.log('done: web and frozen were detected and restarted; crashy escalated after spending its restarts.');
