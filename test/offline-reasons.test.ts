import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordedMonitor } from './helpers/monitor.js';
import { recordingType } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** The reasons of the state changes that ended in offline, as `resource: from->to (reason)`. */
function wentOffline(recorded: ReturnType<typeof recordedMonitor>): string[] {
  return recorded
    .of('stateChange')
    .filter((e) => e.to === 'offline' || e.to === 'offline-pending')
    .map((e) => `${e.resource}: ${e.from}->${e.to} (${e.reason})`);
}

describe('the reason an offline gives', () => {
  it('says "offline completed" when offline() of that resource completes, and repeats the cause for its dependents and a group', async () => {
    await using recorded = recordedMonitor();
    const { monitor } = recorded;
    monitor.registerType(recordingType('rec').type);
    monitor.addResource({ name: 'db', type: 'rec' });
    monitor.addResource({ name: 'app', type: 'rec', dependsOn: ['db'] });
    monitor.addResource({ name: 'web', type: 'rec', group: 'g' });
    await monitor.online('app');
    await monitor.online('web');

    await monitor.offline('db');
    await monitor.offlineGroup('g');

    expect(wentOffline(recorded)).toEqual([
      'app: online->offline-pending (dependency "db" is going offline)',
      'app: offline-pending->offline (dependency "db" is going offline)',
      'db: online->offline-pending (offline() called)',
      'db: offline-pending->offline (offline completed)',
      'web: online->offline-pending (offlineGroup("g") called)',
      'web: offline-pending->offline (offlineGroup("g") called)',
    ]);
  });
});
