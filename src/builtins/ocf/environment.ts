/** What one run of an agent is told through its environment. */
export interface OcfCall {
  /** The OCF root (`OCF_ROOT`). */
  readonly root: string;
  /** The agent's name (`OCF_RESOURCE_TYPE`). */
  readonly type: string;
  /** Its provider (`OCF_RESOURCE_PROVIDER`), null when the agent was given as a path outside `resource.d`. */
  readonly provider: string | null;
  /** The resource's name (`OCF_RESOURCE_INSTANCE`); absent for `meta-data`. */
  readonly instance?: string;
  /** The parameters (`OCF_RESKEY_<name>`), as text. */
  readonly params?: Readonly<Record<string, string>>;
  /** The action's timeout in milliseconds (`OCF_RESKEY_CRM_meta_timeout`). */
  readonly timeoutMs?: number;
  /** A recurring monitor's interval in ms (`OCF_RESKEY_CRM_meta_interval`; 0 for other actions). */
  readonly intervalMs?: number;
  /** A monitor's check level (`OCF_CHECK_LEVEL`). */
  readonly checkLevel?: number;
  /** The writable runtime directory (`HA_RSCTMP`). */
  readonly runtimeDir: string;
}

/** Variables of the embedding process that must not leak into an agent's run. */
const OWN = /^(OCF_RESKEY_|OCF_RESOURCE_|OCF_CHECK_LEVEL$|OCF_ROOT$|OCF_RA_VERSION_|HA_RSCTMP$)/;

/**
 * The environment of one agent run, as Pacemaker's executor sets it: the embedding process's own
 * variables (PATH and the rest, minus any OCF variables of its own), then `OCF_ROOT`,
 * `OCF_RA_VERSION_MAJOR`/`MINOR` (1.1), `OCF_RESOURCE_INSTANCE`, `OCF_RESOURCE_TYPE`,
 * `OCF_RESOURCE_PROVIDER`, one `OCF_RESKEY_<name>` per parameter, `OCF_RESKEY_CRM_meta_timeout`
 * and `OCF_RESKEY_CRM_meta_interval` (milliseconds), `OCF_CHECK_LEVEL` for a monitor,
 * `OCF_EXIT_REASON_PREFIX` and `HA_RSCTMP`.
 */
export function ocfEnvironment(call: OcfCall, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined && !OWN.test(key)) env[key] = value;
  env.OCF_ROOT = call.root;
  env.OCF_RA_VERSION_MAJOR = '1';
  env.OCF_RA_VERSION_MINOR = '1';
  env.OCF_RESOURCE_TYPE = call.type;
  if (call.provider !== null) env.OCF_RESOURCE_PROVIDER = call.provider;
  if (call.instance !== undefined) env.OCF_RESOURCE_INSTANCE = call.instance;
  for (const [name, value] of Object.entries(call.params ?? {})) env[`OCF_RESKEY_${name}`] = value;
  if (call.timeoutMs !== undefined) env.OCF_RESKEY_CRM_meta_timeout = String(Math.round(call.timeoutMs));
  if (call.instance !== undefined) env.OCF_RESKEY_CRM_meta_interval = String(Math.round(call.intervalMs ?? 0));
  if (call.checkLevel !== undefined) env.OCF_CHECK_LEVEL = String(call.checkLevel);
  env.OCF_EXIT_REASON_PREFIX = 'ocf-exit-reason:';
  env.HA_RSCTMP = call.runtimeDir;
  return env;
}
