export { ResourceMonitor, type ResourceMonitorOptions, type WaitForOptions } from './monitor.js';
export type { HostedTypeSpec, HostResourceLimits, Isolation } from './hosts/spec.js';
export {
  type CheckKind,
  type CheckResult,
  DEFAULT_PROCESSING,
  type DependencyItem,
  type DefaultProcessing,
  type EntryPoint,
  type PropertiesOutcome,
  RESOURCE_STATES,
  type ResourceContext,
  type ResourceSpec,
  type ResourceState,
  type ResourceStatus,
  type ResourceTarget,
  type ResourceType,
  type TypeControlContext,
} from './types.js';
export type { GroupState, GroupStatus } from './groups.js';
export { DEFAULT_POLICY, type ResourcePolicy, type RestartAction } from './policy.js';
export {
  type BaseEvent,
  type CallTimeoutEvent,
  type CheckEvent,
  type EscalatedEvent,
  type GroupStateChangeEvent,
  type HostExitEvent,
  MONITOR_EVENTS,
  type ProgressEvent,
  type ResourceMonitorEvents,
  type RestartScheduledEvent,
  type SlowCallEvent,
  type StateChangeEvent,
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
  isOcfError,
  isPermanentFailure,
  isResmonError,
  isStateError,
  isUnknownResourceError,
  isUnknownTypeError,
  MonitorClosedError,
  OcfError,
  type OcfExitName,
  ResmonError,
  type ResmonErrorCode,
  StateError,
  UnknownResourceError,
  UnknownTypeError,
} from './errors.js';
export {
  createProcessType,
  isProcessExitError,
  ProcessExitError,
  processType,
  type ProcessConfig,
  type ProcessExit,
  type ProcessHandle,
  type ProcessOutput,
  type ProcessProperties,
  type ProcessResourceType,
  type ProcessTypeOptions,
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
export {
  createOcfType,
  OcfHandle,
  ocfType,
  type OcfConfig,
  type OcfProperties,
  type OcfResourceType,
  type OcfTypeOptions,
} from './builtins/ocf/type.js';
export type { OcfAction, OcfMetadata, OcfParameter } from './builtins/ocf/metadata.js';
export { OCF_EXIT_NAMES } from './builtins/ocf/codes.js';
