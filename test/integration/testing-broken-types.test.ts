import { describe, expect, it } from 'vitest';
import type { ResourceType } from 'resmon';
import { verifyResourceType, type ConformanceLimits, formatReport } from 'resmon/testing';
import isAliveHangs from '../fixtures/broken-types/isalive-hangs.js';
import leaksATimer from '../fixtures/broken-types/leaks-a-timer.js';
import offlineLeavesUp from '../fixtures/broken-types/offline-leaves-up.js';
import onlineIgnoresSignal from '../fixtures/broken-types/online-ignores-signal.js';
import { breakServer, type TcpServerHandle, type TcpServerProps } from '../fixtures/broken-types/tcp-server-type.js';
import terminateThrows from '../fixtures/broken-types/terminate-throws.js';

// Small limits keep the hung calls cheap; the online of online-ignores-signal takes 600 ms.
const limits: Partial<ConformanceLimits> = { abortGrace: 200, deadlockTimeout: 400, handleTimeout: 300 };

async function failedChecks(type: ResourceType<TcpServerProps, TcpServerHandle>) {
  const report = await verifyResourceType(type, { properties: { port: 0 }, breakResource: breakServer, limits });
  expect(report.passed).toBe(false);
  return { names: report.cases.filter((c) => !c.passed).map((c) => c.name), report, text: formatReport(report) };
}

describe('the conformance suite fails a broken type, naming the case it breaks', () => {
  it('offline that leaves the resource up', async () => {
    const { names, report } = await failedChecks(offlineLeavesUp);
    expect(names).toEqual(['offline takes the resource down: isAlive is false']);
    expect(report.cases.find((c) => !c.passed)?.reason).toBe('isAlive returned true after offline: the resource is still up');
  });

  it('terminate that throws', async () => {
    const { names, text } = await failedChecks(terminateThrows);
    expect(names).toEqual([
      'terminate when offline settles promptly and leaves isAlive false',
      'terminate twice in a row settles promptly and leaves isAlive false',
      'terminate in the middle of a slow online settles promptly and leaves isAlive false',
    ]);
    expect(text).toContain('Error: terminate: nothing to kill');
  });

  it('online that ignores its signal', async () => {
    const { names, report } = await failedChecks(onlineIgnoresSignal);
    expect(names).toEqual([
      'terminate in the middle of a slow online settles promptly and leaves isAlive false',
      'an aborted online settles within abortGrace',
    ]);
    expect(report.cases.find((c) => c.name === 'an aborted online settles within abortGrace')?.reason).toMatch(
      /^online went on for \d+ ms after its signal aborted; it must settle within abortGrace \(200 ms\)/,
    );
  }, 30_000);

  it('isAlive that hangs', async () => {
    const { names, report } = await failedChecks(isAliveHangs);
    expect(names).toContain('checks finish within callBudget (a warning) and deadlockTimeout (a failure)');
    expect(names).toContain('runs under a ResourceMonitor: online, isAlive passes, offline');
    const budget = report.cases.find((c) => c.name.startsWith('checks finish'));
    expect(budget?.reason).toBe('isAlive did not settle within deadlockTimeout (400 ms)');
    expect(budget?.durations).toContainEqual(expect.objectContaining({ entryPoint: 'isAlive', outcome: 'timeout' }));
    // The cases that do not call isAlive still pass.
    expect(report.cases.find((c) => c.name === 'an aborted online settles within abortGrace')?.passed).toBe(true);
  });

  it('close that leaves a timer behind', async () => {
    const { names, report } = await failedChecks(leaksATimer);
    expect(names).toEqual(['no timers, sockets or child processes are left after the resource is closed']);
    expect(report.cases.find((c) => !c.passed)?.reason).toBe('300 ms after close, these are still open: 1 Timeout');
  });

  it('a slow health check is a warning, not a failure', async () => {
    const { tcpServerType } = await import('../fixtures/broken-types/tcp-server-type.js');
    const slow = tcpServerType('slow-isalive', { isAlive: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 60)) });
    const report = await verifyResourceType(slow, { properties: { port: 0 }, limits: { callBudget: 30 }, only: ['checks finish'] });
    expect(report.passed).toBe(true);
    expect(report.cases[0]?.warning).toMatch(/^isAlive took \d+ ms, .*the callBudget is 30 ms/);
    expect(formatReport(report)).toContain('! checks finish within callBudget');
  });

  it('validate that accepts garbage, or rejects with a non-Error', async () => {
    const { tcpServerType } = await import('../fixtures/broken-types/tcp-server-type.js');
    const lax = tcpServerType('lax', { validate: () => ({ port: 0 }) });
    const strange = tcpServerType('strange', {
      validate: (p) => {
        if ((p as { port?: unknown }).port !== 0) throw 'bad port'; // eslint-disable-line no-throw-literal
        return { port: 0 };
      },
    });
    const a = await verifyResourceType(lax, { properties: { port: 0 }, only: ['validate'] });
    expect(a.cases.map((c) => [c.name, c.passed, c.reason])).toEqual([
      ['validate accepts the sample properties', true, null],
      ['validate rejects garbage with an Error', false, 'validate accepted the sample properties with every field a Symbol (port)'],
    ]);
    const b = await verifyResourceType(strange, { properties: { port: 0 }, only: ['validate rejects'] });
    expect(b.cases[0]?.reason).toBe('validate rejected the sample properties with every field a Symbol (port) with "bad port", not an Error');
  });

  it('sample properties that validate rejects fail the first case and stop the others', async () => {
    const { tcpServerType } = await import('../fixtures/broken-types/tcp-server-type.js');
    const report = await verifyResourceType(tcpServerType(), { properties: { port: 'eighty' } });
    expect(report.cases[0]?.reason).toBe('validate rejected the sample properties: TypeError: port must be an integer from 0 to 65535, got eighty');
    expect(report.cases[1]?.passed).toBe(true);
    expect(report.cases.slice(2).every((c) => !c.passed && c.reason?.startsWith('cannot run: '))).toBe(true);
  });
});
