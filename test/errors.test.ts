import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  isConfigError,
  isDuplicateError,
  isMonitorClosedError,
  isResmonError,
  isStateError,
  isUnknownResourceError,
  isUnknownTypeError,
  ResourceMonitor,
  type ResourceType,
} from 'resmon';
import { configError } from './helpers/errors.js';
import { TestMonitor } from './helpers/monitor.js';

const type: ResourceType = { name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => true };

function monitorWithType(extra: Partial<ResourceType> = {}) {
  const monitor = new ResourceMonitor();
  monitor.registerType({ ...type, ...extra });
  return monitor;
}


describe('policy validation', () => {
  const cases: [string, unknown, RegExp][] = [
    ['looksAlivePollInterval', -1, /must be a number >= 0/],
    ['isAlivePollInterval', 0, /must be a number > 0/],
    ['isAlivePollInterval', Number.NaN, /must be a number > 0/],
    ['pendingTimeout', Infinity, /must be a number > 0/],
    ['deadlockTimeout', '5s', /must be a number > 0/],
    ['callBudget', -5, /must be a number >= 0/],
    ['restartAction', 'reboot', /must be 'none', 'restart' or 'restart-escalate'/],
    ['restartThreshold', 1.5, /must be an integer >= 0/],
    ['restartPeriod', 0, /must be a number > 0/],
    ['restartDelay', -1, /must be a number >= 0/],
    ['restartBackoff', 0.5, /must be a number >= 1/],
    ['maxRestartDelay', -1, /must be a number >= 0/],
    ['retryPeriodOnFailure', -Infinity, /must be a number > 0 \(or Infinity\)/],
    ['pollJitter', 1.5, /must be a number >= 0 and <= 1/],
    ['separateMonitor', 'yes', /must be a boolean/],
    ['isAliveFailureThreshold', 0, /must be an integer >= 1/],
    ['isAliveFailureThreshold', 2.5, /must be an integer >= 1/],
    ['isAliveFailureThreshold', '3', /must be an integer >= 1/],
    ['isAliveFailureThreshold', Infinity, /must be an integer >= 1/],
    ['stableAfter', -1, /must be a number >= 0/],
    ['stableAfter', Infinity, /must be a number >= 0/],
    ['stableAfter', Number.NaN, /must be a number >= 0/],
  ];
  for (const [field, value, rule] of cases) {
    it(`rejects ${field}: ${String(value)} naming the field, the value and the rule`, async () => {
      await using monitor = monitorWithType();
      const error = configError(() => monitor.addResource({ name: 'r', type: 't', policy: { [field]: value } }));
      expect(error.field).toBe(`policy.${field}`);
      expect(error.value).toBe(value);
      expect(error.message).toMatch(rule);
      expect(error.message).toContain('resource "r"');
      expect(monitor.snapshot()).toEqual([]);
    });
  }

  it('rejects an unknown policy field', () => {
    const error = configError(() => monitorWithType().addResource({ name: 'r', type: 't', policy: { restartDelai: 5 } as never }));
    expect(error.field).toBe('policy.restartDelai');
    expect(error.message).toMatch(/is not a policy field/);
  });

  it('rejects retryPeriodOnFailure below restartPeriod, as Windows does', () => {
    const error = configError(() =>
      monitorWithType().addResource({ name: 'r', type: 't', policy: { restartPeriod: 60_000, retryPeriodOnFailure: 30_000 } }),
    );
    expect(error.field).toBe('policy.retryPeriodOnFailure');
    expect(error.message).toMatch(/must be >= restartPeriod \(60000\)/);
  });

  it('checks the resolved policy across layers: monitor defaults, type defaults, resource policy', async () => {
    await using monitor = new TestMonitor({ defaults: { restartPeriod: 100_000 } });
    monitor.registerType({ ...type, defaults: { retryPeriodOnFailure: 50_000 } });
    expect(() => monitor.addResource({ name: 'r', type: 't' })).toThrow(/retryPeriodOnFailure must be >= restartPeriod/);
    monitor.addResource({ name: 'ok', type: 't', policy: { retryPeriodOnFailure: 200_000 } });
    expect(monitor.getState('ok')).toBe('offline');
  });

  it('rejects bad monitor options and bad type defaults at once', () => {
    expect(configError(() => new ResourceMonitor({ defaults: { isAlivePollInterval: -1 } })).field).toBe('options.defaults.isAlivePollInterval');
    expect(configError(() => new ResourceMonitor({ abortGrace: -1 })).field).toBe('options.abortGrace');
    expect(configError(() => new ResourceMonitor({ clock: { now: () => 0 } as never })).field).toBe('options.clock.setTimeout');
    expect(configError(() => new ResourceMonitor({ logger: { info() {} } as never })).field).toBe('options.logger.debug');
    expect(configError(() => new ResourceMonitor({ colour: 'blue' } as never)).field).toBe('options.colour');
    expect(configError(() => new ResourceMonitor().registerType({ ...type, defaults: { pollJitter: 2 } })).field).toBe('type.defaults.pollJitter');
  });

  it('exposes the built-in defaults of DESIGN §4', () => {
    expect(DEFAULT_POLICY).toMatchObject({
      looksAlivePollInterval: 5_000,
      isAlivePollInterval: 60_000,
      pendingTimeout: 180_000,
      deadlockTimeout: 300_000,
      callBudget: 300,
      restartAction: 'restart-escalate',
      restartThreshold: 1,
      restartPeriod: 900_000,
      restartDelay: 500,
      restartBackoff: 1,
      maxRestartDelay: 300_000,
      retryPeriodOnFailure: 3_600_000,
      pollJitter: 0,
      separateMonitor: false,
      isAliveFailureThreshold: 1,
      stableAfter: 0,
    });
  });
});

describe('registry errors', () => {
  it('rejects a malformed type naming the member', () => {
    expect(configError(() => new ResourceMonitor().registerType({ ...type, isAlive: undefined } as never)).field).toBe('type.isAlive');
    expect(configError(() => new ResourceMonitor().registerType({ ...type, name: '' })).field).toBe('type.name');
    expect(configError(() => new ResourceMonitor().registerType({ ...type, looksAlive: 5 } as never)).field).toBe('type.looksAlive');
  });

  it('wraps a throwing validate in a ConfigError that keeps its message and cause', async () => {
    const cause = new Error('port must be a number');
    await using monitor = monitorWithType({
      validate: () => {
        throw cause;
      },
    });
    const error = configError(() => monitor.addResource({ name: 'r', type: 't', properties: { port: 'x' } }));
    expect(error.field).toBe('properties');
    expect(error.message).toContain('port must be a number');
    expect(error.cause).toBe(cause);
  });

  it('has a class, a stable code and a guard for each kind of error', async () => {
    await using monitor = monitorWithType();
    monitor.addResource({ name: 'r', type: 't' });
    const caught = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const dupType = caught(() => monitor.registerType(type));
    expect(isDuplicateError(dupType)).toBe(true);
    expect(dupType).toMatchObject({ code: 'ERR_RESMON_DUPLICATE', name: 'DuplicateError' });
    expect(isDuplicateError(caught(() => monitor.addResource({ name: 'r', type: 't' })))).toBe(true);
    const unknownType = caught(() => monitor.addResource({ name: 'x', type: 'nope' }));
    expect(isUnknownTypeError(unknownType)).toBe(true);
    expect(unknownType).toMatchObject({ code: 'ERR_RESMON_UNKNOWN_TYPE', typeName: 'nope' });
    expect(isUnknownResourceError(caught(() => monitor.getState('ghost')))).toBe(true);
    await expect(monitor.online('ghost')).rejects.toMatchObject({ code: 'ERR_RESMON_UNKNOWN_RESOURCE', resource: 'ghost' });
    await expect(monitor.waitFor('ghost', 'online')).rejects.toMatchObject({ code: 'ERR_RESMON_UNKNOWN_RESOURCE' });
    await expect(monitor.waitFor('r', 'sideways' as never)).rejects.toMatchObject({ code: 'ERR_RESMON_CONFIG', field: 'state' });
    const removing = monitor.removeResource('r');
    await expect(monitor.online('r')).rejects.toSatisfy(isStateError);
    await removing;
    await monitor.close();
    for (const op of [() => monitor.registerType({ ...type, name: 'u' }), () => monitor.addResource({ name: 'y', type: 't' })]) {
      const error = caught(op);
      expect(isMonitorClosedError(error)).toBe(true);
      expect(isResmonError(error)).toBe(true);
    }
    await expect(monitor.online('r')).rejects.toSatisfy(isMonitorClosedError);
  });

  it('recognises errors from another copy of the package by their brand', () => {
    const foreign = Object.assign(new Error('from another copy'), { code: 'ERR_RESMON_CONFIG', [Symbol.for('resmon.error')]: true });
    expect(isConfigError(foreign)).toBe(true);
    expect(isResmonError(foreign)).toBe(true);
    expect(isConfigError(Object.assign(new Error('look-alike'), { code: 'ERR_RESMON_CONFIG' }))).toBe(false);
    expect(isConfigError('ERR_RESMON_CONFIG')).toBe(false);
  });

  it('close() is idempotent', async () => {
    await using monitor = monitorWithType();
    const first = monitor.close();
    expect(monitor.close()).toBe(first);
    await first;
  });
});
