import { describe, expect, it } from 'vitest';
import { type HistoryEntry, replay } from './integration/cluster-harness.js';

/** The cluster integration tests' history checker must be able to fail. */
describe('the cluster history checker', () => {
  const e = (at: number, node: string, call: HistoryEntry['call'], token: number | null, resource = 'svc'): HistoryEntry => ({ at, node, resource, call, token });

  it('accepts hand-overs after offline, terminate or a kill, with growing tokens', () => {
    const h = [e(1, 'a', 'online', 1), e(2, 'a', 'terminate', 1), e(3, 'b', 'online', 2), e(4, 'b', 'killed', null, '*'), e(5, 'c', 'online', 5), e(6, 'c', 'offline', 5)];
    expect(replay(h)).toEqual({ up: new Map(), onlines: 3 });
  });

  it('rejects two owners at once', () => {
    expect(() => replay([e(1, 'a', 'online', 1), e(2, 'b', 'online', 2)])).toThrow(/two owners: svc came online on b/);
  });

  it('rejects a new owner whose token is not higher, and an online without a token', () => {
    expect(() => replay([e(1, 'a', 'online', 2), e(2, 'a', 'offline', 2), e(3, 'b', 'online', 2)])).toThrow(/token not increasing/);
    expect(() => replay([e(1, 'a', 'online', 2), e(2, 'a', 'offline', 2), e(3, 'a', 'online', 1)])).toThrow(/token not increasing/);
    expect(() => replay([e(1, 'a', 'online', null)])).toThrow(/without a fencing token/);
  });
});
