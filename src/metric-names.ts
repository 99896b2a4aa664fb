/** The Prometheus metrics of a monitor: names, help and labels, shared by resmon/prometheus and `resmon run --http`. */
export const PROMETHEUS_METRICS = {
  state: {
    name: 'resmon_resource_state',
    help: 'The state of each resource: 1 for the state it is in, 0 for the others.',
    labels: ['resource', 'type', 'state'],
  },
  checkDuration: {
    name: 'resmon_check_duration_seconds',
    help: 'How long each looksAlive and isAlive check took, in seconds.',
    labels: ['kind', 'ok'],
  },
  restarts: {
    name: 'resmon_restarts_total',
    help: 'Restarts scheduled by the restart policy (retry="true": a retry after retryPeriodOnFailure).',
    labels: ['resource', 'retry'],
  },
  callTimeouts: {
    name: 'resmon_call_timeouts_total',
    help: 'Calls into a resource type abandoned at their deadline, by entry point.',
    labels: ['resource', 'entry_point'],
  },
  escalations: {
    name: 'resmon_escalations_total',
    help: 'Times the restart threshold was spent (the embedder should fail over or page).',
    labels: ['resource'],
  },
} as const;

/** The default buckets of `resmon_check_duration_seconds`, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
