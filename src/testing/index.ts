// resmon/testing: the kit for people who write resource types.
export { CASE_NAMES, verifyResourceType } from './verify.js';
export { describeResourceType, type TestRunner } from './describe.js';
export { type ConformanceLimits, type ConformanceOptions, DEFAULT_LIMITS } from './options.js';
export { type CallDuration, type CaseReport, type ConformanceReport, failures, formatReport } from './report.js';
export { createFakeClock, type FakeClock } from './fake-clock.js';
export { type RecordedCall, type Recording, recordCalls } from './recording.js';
