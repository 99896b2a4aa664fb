// Testing your resource type: the conformance suite, and deterministic unit tests under the
// monitor. Run by resmon's own tests (test/testing-example.test.ts).
import { describe, expect, it, vi } from 'vitest';
import { ResourceMonitor } from 'resmon';
import { createFakeClock, describeResourceType, formatReport, recordCalls, verifyResourceType } from 'resmon/testing';
import { echoType } from '../echo-type.js';

const options = {
  properties: { port: 0 },
  // Break the real resource behind the monitor's back: a case verifies that isAlive notices.
  breakResource: (handle: { server: import('node:net').Server | null }) => void handle.server?.close(),
};

// 1. One test per conformance case, in your runner (vitest here; jest and node:test work too).
describeResourceType(echoType, options, { describe, it });

// 2. The same cases as a report, with no test framework needed.
it('passes the whole conformance suite', async () => {
  const report = await verifyResourceType(echoType, options);
  expect(report.passed, formatReport(report)).toBe(true);
});

// 3. Your own deterministic tests: a fake clock drives the monitor, a recording wrapper logs every call.
describe('echo-server under the monitor', () => {
  it('runs looksAlive every 250 ms and isAlive every 500 ms, one call at a time', async () => {
    const clock = createFakeClock();
    const rec = recordCalls(echoType, { now: clock.now });
    const monitor = new ResourceMonitor({ clock, defaults: { looksAlivePollInterval: 250, isAlivePollInterval: 500 } });
    const checks: string[] = [];
    monitor.on('check', (e) => checks.push(`${e.at} ${e.kind} ${e.ok}`));
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'echo', type: 'echo-server', properties: { port: 0 } });

    await monitor.online('echo');
    await clock.advance(250);
    expect(checks).toEqual(['250 looksAlive true']);

    await clock.advance(250);
    // The clock stands still at 500 while isAlive's real round trip runs: wait for the results.
    await vi.waitFor(() => expect(checks).toHaveLength(3));
    expect(checks).toEqual(['250 looksAlive true', '500 isAlive true', '500 looksAlive true']);
    expect(rec.of('isAlive')).toMatchObject([{ start: 500, end: 500, outcome: 'ok', value: true }]);
    expect(rec.overlaps()).toEqual([]);

    await monitor.close();
    expect(rec.of('close')).toHaveLength(1);
  });
});
