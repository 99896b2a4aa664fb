import { ConfigError } from '../errors.js';
import type { ResourcePolicy } from '../policy.js';

/** The time limits of the conformance cases, in milliseconds. Small by default: a good type passes in a few seconds. */
export interface ConformanceLimits {
  /**
   * A health check (`looksAlive`, `isAlive`) slower than this is reported as a warning, as the monitor
   * emits `slowCall`.
   * @default 300
   */
  callBudget: number;
  /**
   * The deadline of a health check, `open`, `terminate` and `close`: a call that has not settled by
   * then fails its case (the monitor would abandon it and fail the resource).
   * @default 2000
   */
  deadlockTimeout: number;
  /**
   * The deadline of `online` and `offline`.
   * @default 5000
   */
  pendingTimeout: number;
  /**
   * How long an aborted `online` may take to settle after its signal aborts (the monitor's
   * `abortGrace`). Lower it to tell a type that ignores its signal from one whose online is fast.
   * @default 1000
   */
  abortGrace: number;
  /**
   * How long `isAlive` may take to notice a resource broken by `breakResource` (it is polled
   * every 50 ms until then).
   * @default 2000
   */
  breakTimeout: number;
  /**
   * How long the suite waits after `close` for the type's timers, sockets and child processes to
   * be gone.
   * @default 1000
   */
  handleTimeout: number;
}

/** The default {@link ConformanceLimits}. */
export const DEFAULT_LIMITS: Readonly<ConformanceLimits> = Object.freeze({
  callBudget: 300,
  deadlockTimeout: 2_000,
  pendingTimeout: 5_000,
  abortGrace: 1_000,
  breakTimeout: 2_000,
  handleTimeout: 1_000,
});

/** What the conformance suite needs besides the type. */
export interface ConformanceOptions<P = unknown, H = unknown> {
  /** Sample properties a resource of this type accepts (what `addResource` would get). */
  properties?: unknown;
  /**
   * Properties `validate` must reject with an Error. By default: the sample with every field set
   * to a Symbol (no config file can produce one), or a Symbol when the sample is not an object.
   */
  invalidProperties?: unknown[];
  /**
   * Other valid properties to hand `applyProperties` as the change (the cases of a type with
   * `applyProperties` call it on an online resource). By default: the sample properties again.
   */
  changedProperties?: unknown;
  /**
   * Properties that `validate` accepts but `applyProperties` refuses (throws) while online, such
   * as a port the running server cannot move to. With them a case verifies that a refused change
   * leaves the resource working on its old properties; without them that case is skipped.
   */
  refusedProperties?: unknown;
  /**
   * Control codes the type answers, with their input: each must answer within
   * `deadlockTimeout` (a warning past `callBudget`) with a value that can be structured-cloned
   * (to reach the monitor from a worker or process host). A type with `control` is also sent an
   * unknown code, which it must answer with `DEFAULT_PROCESSING` or an Error.
   * @example [{ code: 'rotate-logs' }, { code: 'set-level', input: 'debug' }]
   */
  controlCodes?: { code: string; input?: unknown }[];
  /**
   * Breaks the real resource behind the suite's back (kill its process, close its port), so the
   * suite can see that `isAlive` notices. Gets the handle `open` returned and the validated
   * properties. Without it, that case is skipped.
   */
  breakResource?: (handle: H, properties: P) => void | Promise<void>;
  /**
   * The type watches something it does not own (an endpoint, like the built-in `http` and
   * `tcp` types): offline and terminate stop watching but cannot take it down. The cases that
   * expect isAlive false after offline or terminate then only verify that those settle promptly.
   * @default false
   */
  observer?: boolean;
  /** Time limits; each defaults to {@link DEFAULT_LIMITS}. */
  limits?: Partial<ConformanceLimits>;
  /**
   * Policy fields for the resource of the case that runs the type under a real
   * `ResourceMonitor`, over the suite's own (looksAlive every 20 ms, isAlive every 50 ms, the
   * limits as deadlines, `restartAction: 'none'`). Give it the `isAliveFailureThreshold` you run
   * with when a probe may fail now and then: the case passes once an isAlive passes before the
   * resource fails. Validated like `addResource`'s policy (a `ConfigError` naming
   * `options.policy.<field>`).
   * @default {}
   * @example { isAliveFailureThreshold: 3 }
   */
  policy?: Partial<ResourcePolicy>;
  /**
   * Fail when timers, sockets or child processes are left once the resource is closed
   * (compares `process.getActiveResourcesInfo()` before and after). Turn off when something else
   * in the process opens handles while the suite runs.
   * @default true
   */
  detectLeaks?: boolean;
  /**
   * Run only the cases whose name contains one of these strings (all by default).
   * @example ['offline', 'terminate']
   */
  only?: string[];
}

/** Validates the options and fills in the limits; throws ConfigError naming the field. */
export function resolveLimits(limits: Partial<ConformanceLimits> | undefined): ConformanceLimits {
  const context = 'verifyResourceType()';
  if (limits !== undefined && (typeof limits !== 'object' || limits === null)) {
    throw new ConfigError('options.limits', limits, 'must be an object of time limits in milliseconds', { context });
  }
  const out = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (!(key in DEFAULT_LIMITS)) {
      throw new ConfigError(`options.limits.${key}`, value, `is not a limit (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`, { context });
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(`options.limits.${key}`, value, 'must be a finite number >= 0 (milliseconds)', { context });
    }
    (out as Record<string, number>)[key] = value;
  }
  return out;
}
