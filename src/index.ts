export { ResourceMonitor, type ResourceMonitorOptions, type WaitForOptions } from './monitor.js';
export type { HostedTypeSpec, HostResourceLimits, Isolation } from './hosts/spec.js';
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
export {
  createProcessType,
  ProcessExitError,
  processType,
  type ProcessConfig,
  type ProcessExit,
  type ProcessHandle,
  type ProcessOutput,
  type ProcessProperties,
  type ProcessResourceType,
} from './builtins/process.js';
export { httpType, type HttpProperties } from './builtins/http.js';
export { tcpType, type TcpProperties } from './builtins/tcp.js';
export type { EndpointConfig } from './builtins/endpoint.js';
export type { ExecProbeSpec, HttpProbeSpec, Probe, ProbeSpec, TcpProbeSpec } from './builtins/probes.js';
export { CHANNEL_PREFIX, channelName, eventChannel } from './diagnostics.js';
export {
  type FastifyLikeReply,
  type HealthHandler,
  healthHandler,
  type HealthHandlerOptions,
  type HealthRequest,
  type HealthResponse,
  type LivenessReport,
  type NotReadyResource,
  readiness,
  type ReadinessReport,
} from './health.js';
