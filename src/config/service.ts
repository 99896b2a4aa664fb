import type { ResourcePolicy } from '../policy.js';

/**
 * The policy layer `resmon run` (and `resmon validate`) puts under the file's `defaults`: suited
 * to services, where the library's Windows defaults (1 restart per 15 minutes, then a retry
 * after an hour) would leave a crashing service down for an hour. The library itself keeps the
 * Windows defaults.
 */
export const SERVICE_DEFAULTS: Readonly<Partial<ResourcePolicy>> = Object.freeze({
  restartThreshold: 5,
  restartPeriod: 60_000,
  restartBackoff: 2,
  maxRestartDelay: 30_000,
  retryPeriodOnFailure: 60_000,
  pendingTimeout: 60_000,
  deadlockTimeout: 30_000,
});

/**
 * The monitor defaults of a config file: the service layer under the file's `defaults`. When
 * the file raises `restartPeriod` without setting `retryPeriodOnFailure`, the service retry
 * period follows it (the rule `retryPeriodOnFailure >= restartPeriod` holds).
 */
export function serviceDefaults(fileDefaults: Partial<ResourcePolicy>): Partial<ResourcePolicy> {
  const layer: Partial<ResourcePolicy> = { ...SERVICE_DEFAULTS };
  const period = fileDefaults.restartPeriod;
  if (period !== undefined && fileDefaults.retryPeriodOnFailure === undefined && period > (layer.retryPeriodOnFailure as number)) {
    layer.retryPeriodOnFailure = period;
  }
  return { ...layer, ...fileDefaults };
}
