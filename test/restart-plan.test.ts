import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { DEFAULT_POLICY, type ResourcePolicy } from '../src/policy.js';
import { planRestart, RestartBook } from '../src/restart.js';

const policy = (over: Partial<ResourcePolicy> = {}): ResourcePolicy => ({ ...DEFAULT_POLICY, ...over });

/** A book holding restarts that started at these times. */
function bookWith(...times: number[]): RestartBook {
  const book = new RestartBook();
  for (const t of times) book.record(t);
  return book;
}

describe('planRestart', () => {
  it('plans no restart when restartAction is none', () => {
    expect(planRestart(policy({ restartAction: 'none' }), bookWith(), 0, null)).toEqual({ kind: 'none', permanent: null });
  });

  it('plans no restart for a permanent failure, and names it', () => {
    const cause = new ConfigError('port', -1, 'must be >= 0');
    expect(planRestart(policy(), bookWith(), 0, cause)).toEqual({ kind: 'none', permanent: cause });
  });

  it('restarts with the back-off delay of the restarts in the window, counting this one', () => {
    const p = policy({ restartThreshold: 3, restartPeriod: 1_000, restartDelay: 100, restartBackoff: 2, maxRestartDelay: 10_000 });
    expect(planRestart(p, bookWith(500, 600), 700, null)).toEqual({ kind: 'restart', delayMs: 400, attempt: 3 });
  });

  it('does not count restarts that left the window', () => {
    const p = policy({ restartThreshold: 1, restartPeriod: 1_000, restartDelay: 0 });
    expect(planRestart(p, bookWith(0), 1_000, null)).toEqual({ kind: 'restart', delayMs: 0, attempt: 1 });
  });

  it('reports the threshold spent, escalating and retrying as the policy says', () => {
    const p = policy({ restartThreshold: 1, restartPeriod: 1_000, restartAction: 'restart-escalate', retryPeriodOnFailure: 60_000 });
    expect(planRestart(p, bookWith(10), 20, null)).toEqual({ kind: 'spent', restarts: 1, periodMs: 1_000, escalate: true, retryMs: 60_000 });
  });

  it('never retries when retryPeriodOnFailure is Infinity, and does not escalate on restart-only', () => {
    const p = policy({ restartThreshold: 1, restartAction: 'restart', retryPeriodOnFailure: Number.POSITIVE_INFINITY });
    expect(planRestart(p, bookWith(10), 20, null)).toMatchObject({ kind: 'spent', escalate: false, retryMs: null });
  });
});

describe('RestartBook.markStable', () => {
  it('empties the window once the online period has lasted stableAfter, saying so the first time only', () => {
    const book = bookWith(0, 10);
    expect(book.markStable(100, 149, 50)).toBe(false);
    expect(book.inWindow(149, 1_000)).toBe(2);
    expect(book.markStable(100, 150, 50)).toBe(true);
    expect(book.inWindow(150, 1_000)).toBe(0);
    expect(book.stableAt).toBe(150);
    expect(book.markStable(100, 200, 50)).toBe(false);
  });

  it('does nothing when stableAfter is 0', () => {
    const book = bookWith(0);
    expect(book.markStable(0, 1_000, 0)).toBe(false);
    expect(book.inWindow(1_000, 10_000)).toBe(1);
  });
});
