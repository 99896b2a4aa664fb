export { ResourceMonitor, type ResourceMonitorOptions, type WaitForOptions } from './monitor.js';
export type {
  CheckKind,
  CheckResult,
  EntryPoint,
  ResourceContext,
  ResourceSpec,
  ResourceState,
  ResourceStatus,
  ResourceType,
} from './types.js';
export { DEFAULT_POLICY, type ResourcePolicy, type RestartAction } from './policy.js';
export type {
  BaseEvent,
  CallTimeoutEvent,
  CheckEvent,
  EscalatedEvent,
  HostExitEvent,
  ProgressEvent,
  ResourceMonitorEvents,
  RestartScheduledEvent,
  SlowCallEvent,
  StateChangeEvent,
} from './events.js';
export { type Clock, systemClock } from './clock.js';
export { type Logger, silentLogger } from './logger.js';
export {
  CallTimeoutError,
  ConfigError,
  DependencyError,
  DuplicateError,
  isCallTimeoutError,
  isConfigError,
  isDependencyError,
  isDuplicateError,
  isMonitorClosedError,
  isResmonError,
  isStateError,
  isUnknownResourceError,
  isUnknownTypeError,
  MonitorClosedError,
  ResmonError,
  type ResmonErrorCode,
  StateError,
  UnknownResourceError,
  UnknownTypeError,
} from './errors.js';
