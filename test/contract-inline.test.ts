import { afterEach, beforeEach, vi } from 'vitest';
import { contractSuite } from './contract.suite.js';

/**
 * The contract suite against an inline type, on fake timers: the same tests the worker and
 * process hosts pass on real time (test/integration/), with time jumping straight to the next
 * timer at every turn of the event loop, so a test's seconds of deadlines, polls and restart
 * delays take microseconds. Time moves only between macrotasks, after every queued promise
 * callback ran, so each step sees the monitor settled, as on real time.
 */
let pumping = false;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  pumping = true;
  const pump = () => {
    if (!pumping) return;
    vi.advanceTimersToNextTimer();
    setImmediate(pump);
  };
  setImmediate(pump);
});
afterEach(() => {
  pumping = false;
  vi.useRealTimers();
});

contractSuite('inline');
