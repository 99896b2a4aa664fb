// resmon/testing: the kit for people who write resource types.
export { checkResourceType, CHECK_NAMES } from './check-type.js';
export { describeResourceType, type TestRunner } from './describe.js';
export { type CheckLimits, type CheckOptions, DEFAULT_LIMITS } from './options.js';
export { type CallDuration, type CheckReport, type ConformanceReport, failures, formatReport } from './report.js';
export { createFakeClock, type FakeClock } from './fake-clock.js';
export { type RecordedCall, type Recording, recordCalls } from './recording.js';
