import { describe, expect, it } from 'vitest';
import {
  isConfigError,
  isProcessExitError,
  isResmonError,
  MONITOR_EVENTS,
  ProcessExitError,
  RESOURCE_STATES,
  ResourceMonitor,
  type ResourceMonitorEvents,
  type ResourceState,
} from 'resmon';
import { ConfigFileError, isConfigFileError } from '../src/config/file.js';
import { ConfigError } from '../src/errors.js';

describe('the error brands', () => {
  it('gives ProcessExitError a code and a guard that work across copies of the package', () => {
    const error = new ProcessExitError('sleep (pid 7) exited with code 3 while online', { code: 3, signal: null, at: 0 }, ['boom']);
    expect(error.code).toBe('ERR_RESMON_PROCESS_EXIT');
    expect(error.name).toBe('ProcessExitError');
    expect(isProcessExitError(error)).toBe(true);
    expect(isResmonError(error)).toBe(true);
    expect(isConfigError(error)).toBe(false);
    // Another copy: same brand and code, another class.
    const foreign = Object.assign(new Error('x'), { code: 'ERR_RESMON_PROCESS_EXIT', [Symbol.for('resmon.error')]: true });
    expect(isProcessExitError(foreign)).toBe(true);
    expect(isProcessExitError(Object.assign(new Error('x'), { code: 'ERR_RESMON_PROCESS_EXIT' }))).toBe(false);
  });

  it('gives the config-file error a code and a guard', () => {
    const error = new ConfigFileError('resmon.yaml', [new ConfigError('resources', 1, 'must be a list')]);
    expect(error.code).toBe('ERR_RESMON_CONFIG_FILE');
    expect(isConfigFileError(error)).toBe(true);
    expect(isConfigFileError(new ConfigError('resources', 1, 'must be a list'))).toBe(false);
    expect(isConfigFileError('resmon.yaml: 1 error')).toBe(false);
  });
});

describe('the run-time lists', () => {
  it('lists every event a monitor emits, once', () => {
    const names: (keyof ResourceMonitorEvents)[] = [...MONITOR_EVENTS];
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('stateChange');
    expect(names).toContain('hostExit');
  });

  it('lists the five states, and waitFor names them when given another', async () => {
    expect(RESOURCE_STATES).toEqual(['offline', 'online-pending', 'online', 'offline-pending', 'failed']);
    await using monitor = new ResourceMonitor();
    monitor.registerType({ name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => true });
    monitor.addResource({ name: 'r', type: 't' });
    await expect(monitor.waitFor('r', 'up' as ResourceState)).rejects.toThrow(
      "state must be one of 'offline', 'online-pending', 'online', 'offline-pending', 'failed'",
    );
  });
});
