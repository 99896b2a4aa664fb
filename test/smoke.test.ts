import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { ResourceMonitor } from 'resmon';
import { recordingType } from './helpers/recording.js';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

it('smoke', async () => {
  const rec = recordingType();
  const m = new ResourceMonitor({ defaults: { looksAlivePollInterval: 1000, isAlivePollInterval: 5000 } });
  const events: string[] = [];
  m.on('stateChange', (e) => events.push(`${e.at} ${e.from}->${e.to} ${e.reason}`));
  m.on('check', (e) => events.push(`${e.at} check ${e.kind} ${e.ok}`));
  m.registerType(rec.type);
  m.addResource({ name: 'a', type: 'rec' });
  await m.online('a');
  await vi.advanceTimersByTimeAsync(5000);
  await m.offline('a');
  await m.close();
  console.log(events.join('\n'));
  expect(m.listenerCount('check')).toBe(0);
});
