import { ConfigError, reasonOf } from './errors.js';

/** What the monitor does after a resource fails (Windows `RestartAction`). */
export type RestartAction = 'none' | 'restart' | 'restart-escalate';

/**
 * How a resource is polled, timed and restarted. Every field resolves from the
 * resource's own `policy`, then its type's `defaults`, then the monitor's `defaults`, then the
 * built-in default below. Times are milliseconds.
 */
export interface ResourcePolicy {
  /**
   * How often the cheap check (`looksAlive`) runs while online. 0 turns it off, as does a type
   * without `looksAlive`.
   * @default 5000
   */
  looksAlivePollInterval: number;
  /**
   * How often the thorough check (`isAlive`) runs while online. Cannot be turned off: > 0.
   * @default 60000
   */
  isAlivePollInterval: number;
  /**
   * The longest silence of `online` or `offline`: each `ctx.reportProgress()` resets it.
   * @default 180000
   */
  pendingTimeout: number;
  /**
   * The deadline of every other call (`open`, checks, `terminate`, `close`). A check past it
   * fails the resource outright.
   * @default 300000
   */
  deadlockTimeout: number;
  /**
   * A check, `open`, `close` or `terminate` slower than this emits `slowCall` (Windows advises
   * 300 ms per entry point); for `online` and `offline` only the time they block the event loop
   * before returning counts, since `pendingTimeout` bounds their asynchronous part.
   * @default 300
   */
  callBudget: number;
  /**
   * What a failure leads to: `'none'` (stay failed), `'restart'` (restart within the
   * threshold, then stay failed until the retry), `'restart-escalate'` (the same, and emit
   * `escalated` when the threshold is spent).
   * @default 'restart-escalate'
   */
  restartAction: RestartAction;
  /**
   * Restarts allowed within `restartPeriod`; an integer ≥ 0 (0: escalate at the first failure).
   * @default 1
   */
  restartThreshold: number;
  /**
   * The sliding window that counts restarts.
   * @default 900000
   */
  restartPeriod: number;
  /**
   * The wait before a restart, counted from the end of the failure's `terminate`.
   * @default 500
   */
  restartDelay: number;
  /**
   * Each further restart within the window waits this factor longer (≥ 1; 1 is Windows).
   * @default 1
   */
  restartBackoff: number;
  /**
   * The cap of the backed-off restart delay.
   * @default 300000
   */
  maxRestartDelay: number;
  /**
   * When the restarts are spent: retry after this long, with a fresh window. `Infinity`: never.
   * Must be ≥ `restartPeriod`.
   * @default 3600000
   */
  retryPeriodOnFailure: number;
  /**
   * 0..1: each poll waits up to this fraction of its interval more, at random, so many
   * resources do not poll in lockstep.
   * @default 0
   */
  pollJitter: number;
  /**
   * Hosted types only: this resource gets a host of its own. `true` in the policy of a resource
   * of an inline type, or in an inline type's defaults, is a `ConfigError` (a monitor-wide
   * default applies to hosted types only). Cannot change with `setPolicy`.
   * @default false
   */
  separateMonitor: boolean;
  /**
   * Hysteresis (Kubernetes' `failureThreshold`): the resource fails only after this many isAlive
   * checks in a row have failed; an integer ≥ 1 (1 is Windows: the first failed isAlive fails it).
   * Each failed check still emits `check` with its `consecutiveFailures`; after a failed isAlive
   * the next one runs sooner, after `min(isAlivePollInterval, looksAlivePollInterval ||
   * isAlivePollInterval)`; one passing isAlive resets the count. A check past `deadlockTimeout`,
   * `reportFailure` and a failed `online` are never delayed by it.
   * @default 1
   * @example { isAliveFailureThreshold: 3 } // one slow probe on a busy machine restarts nothing
   */
  isAliveFailureThreshold: number;
  /**
   * Forgiveness (systemd's and Kubernetes' back-off reset): once the resource has been online
   * this long without a break, its restart window is emptied, so the next failure restarts it
   * after `restartDelay` again (the back-off starts over) and the threshold is whole again.
   * 0 turns it off: only the sliding `restartPeriod` window ages restarts out. Useful below
   * `restartPeriod` (beyond it the window has already forgotten them). `inspect().restarts.stableAt`
   * shows when it happens.
   * @default 0
   * @example { stableAfter: 60_000 } // a minute of clean running forgives earlier restarts
   */
  stableAfter: number;
}

/** The built-in defaults: the last layer of every policy. */
export const DEFAULT_POLICY: Readonly<ResourcePolicy> = Object.freeze({
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

type Rule = (value: unknown) => string | null;

const number =
  (min: number, opts: { exclusive?: boolean; integer?: boolean; max?: number; infinite?: boolean } = {}): Rule =>
  (v) => {
    const range = `${opts.exclusive ? '>' : '>='} ${min}${opts.max !== undefined ? ` and <= ${opts.max}` : ''}`;
    const rule = `must be ${opts.integer ? 'an integer' : 'a number'} ${range}${opts.infinite ? ' (or Infinity)' : ''}`;
    if (typeof v !== 'number' || Number.isNaN(v)) return rule;
    if (v === Number.POSITIVE_INFINITY) return opts.infinite ? null : rule;
    if (!Number.isFinite(v)) return rule;
    if (opts.integer && !Number.isInteger(v)) return rule;
    if (opts.exclusive ? v <= min : v < min) return rule;
    if (opts.max !== undefined && v > opts.max) return rule;
    return null;
  };

const RULES: { [K in keyof ResourcePolicy]: Rule } = {
  looksAlivePollInterval: number(0),
  isAlivePollInterval: number(0, { exclusive: true }),
  pendingTimeout: number(0, { exclusive: true }),
  deadlockTimeout: number(0, { exclusive: true }),
  callBudget: number(0),
  restartAction: (v) =>
    v === 'none' || v === 'restart' || v === 'restart-escalate' ? null : `must be 'none', 'restart' or 'restart-escalate'`,
  restartThreshold: number(0, { integer: true }),
  restartPeriod: number(0, { exclusive: true }),
  restartDelay: number(0),
  restartBackoff: number(1),
  maxRestartDelay: number(0),
  retryPeriodOnFailure: number(0, { exclusive: true, infinite: true }),
  pollJitter: number(0, { max: 1 }),
  separateMonitor: (v) => (typeof v === 'boolean' ? null : 'must be a boolean'),
  isAliveFailureThreshold: number(1, { integer: true }),
  stableAfter: number(0),
};

/** The names of every policy field. */
export const POLICY_FIELDS = Object.keys(RULES) as (keyof ResourcePolicy)[];

/**
 * A copy of an options, policy or defaults object taken at the boundary: its own enumerable
 * string-keyed properties, each read exactly once (a getter runs once; later changes to the
 * object, or a getter that answers differently the next time, change nothing). The copy has no
 * prototype, so a key such as `__proto__` or `constructor` is an ordinary (unknown) field. A
 * getter or Proxy trap that throws becomes a `ConfigError` naming the field (`prefix` + key).
 */
export function snapshotFields(value: object, path: string, context: string, prefix = `${path}.`): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch (error) {
    throw new ConfigError(path, undefined, `could not be read: ${reasonOf(error)}`, { context, cause: error });
  }
  for (const key of keys) {
    try {
      out[key] = (value as Record<string, unknown>)[key];
    } catch (error) {
      throw new ConfigError(`${prefix}${key}`, undefined, `could not be read: ${reasonOf(error)}`, { context, cause: error });
    }
  }
  return out;
}

/** `Array.isArray`, false for a revoked Proxy (which the snapshot then reports). */
function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * Checks one layer of policy (a resource's `policy`, a type's `defaults`, the monitor's
 * `defaults`): an object whose every field is known and obeys its rule. Throws `ConfigError`
 * naming the field, the value and the rule; `context` says whose policy it is. Returns a copy
 * with only the fields that are set (see {@link snapshotFields}): use it, never the original.
 */
export function validatePolicy(layer: unknown, context: string, path = 'policy'): Partial<ResourcePolicy> {
  if (layer === undefined) return NO_POLICY;
  if (typeof layer !== 'object' || layer === null || isArray(layer)) {
    throw new ConfigError(path, layer, 'must be an object of policy fields', { context });
  }
  const fields = snapshotFields(layer, path, context);
  const out: Partial<ResourcePolicy> = {};
  for (const field of Object.keys(fields)) {
    const value = fields[field];
    const rule = Object.hasOwn(RULES, field) ? RULES[field as keyof ResourcePolicy] : undefined;
    if (!rule) {
      throw new ConfigError(`${path}.${field}`, value, `is not a policy field (known: ${POLICY_FIELDS.join(', ')})`, {
        context,
      });
    }
    if (value === undefined) continue;
    const broken = rule(value);
    if (broken) throw new ConfigError(`${path}.${field}`, value, broken, { context });
    (out as Record<string, unknown>)[field] = value;
  }
  return out;
}

/**
 * Resolves a resource's policy from its layers, most specific first, and checks the rules that
 * span fields. Each layer must already have passed {@link validatePolicy}.
 */
export function resolvePolicy(layers: (Partial<ResourcePolicy> | undefined)[], context: string): ResourcePolicy {
  const resolved = { ...DEFAULT_POLICY } as ResourcePolicy;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (!layer) continue;
    for (const field of POLICY_FIELDS) {
      const value = layer[field];
      if (value !== undefined) (resolved as unknown as Record<string, unknown>)[field] = value;
    }
  }
  if (resolved.retryPeriodOnFailure < resolved.restartPeriod) {
    throw new ConfigError(
      'policy.retryPeriodOnFailure',
      resolved.retryPeriodOnFailure,
      `must be >= restartPeriod (${resolved.restartPeriod}), as in Windows; raise it or lower restartPeriod`,
      { context },
    );
  }
  return resolved;
}

/**
 * Resolved policies shared between resources: resources whose layers resolve to the same values
 * hold one frozen object, not one each (100,000 resources with the same policy hold one). Best
 * effort: past `limit` distinct policies the table starts over, so resources with a policy each
 * cost no more than before.
 */
export class PolicyTable {
  private readonly shared = new Map<string, ResourcePolicy>();

  constructor(private readonly limit = 1_024) {}

  /** The shared (frozen) object with the values of `policy`. */
  intern(policy: ResourcePolicy): ResourcePolicy {
    let key = '';
    for (const field of POLICY_FIELDS) key += `${String(policy[field])}\u0000`;
    const known = this.shared.get(key);
    if (known) return known;
    if (this.shared.size >= this.limit) this.shared.clear();
    const frozen = Object.freeze(policy);
    this.shared.set(key, frozen);
    return frozen;
  }
}

/** The own layer of a resource given no policy: one frozen empty object for all of them. */
export const NO_POLICY: Partial<ResourcePolicy> = Object.freeze({});

/**
 * The wait before a restart when `inWindow` restarts already happened in the window:
 * `restartDelay × restartBackoff^inWindow`, capped at `maxRestartDelay`. Always a finite number
 * in `[0, maxRestartDelay]` (a delay of 0 stays 0 whatever the backoff; an overflow is the cap).
 */
export function restartDelayOf(policy: Pick<ResourcePolicy, 'restartDelay' | 'restartBackoff' | 'maxRestartDelay'>, inWindow: number): number {
  const { restartDelay, restartBackoff, maxRestartDelay } = policy;
  if (restartDelay <= 0) return 0;
  const delay = restartDelay * restartBackoff ** inWindow;
  return Number.isFinite(delay) ? Math.min(delay, maxRestartDelay) : maxRestartDelay;
}
