import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { ResourcePolicy } from '../../policy.js';
import { DEFAULT_PROCESSING, type ResourceContext, type ResourceType } from '../../types.js';
import { objectAt, onlyKeys, stringAt } from '../fields.js';
import { signalGroup } from '../group.js';
import { runAction } from './action.js';
import {
  DEFAULT_METADATA_TIMEOUT_MS,
  defaultRuntimeDir,
  ensureRuntimeDir,
  type LocatedAgent,
  listAgents,
  locateAgent,
  readMetadata,
  readMetadataSync,
} from './agent.js';
import { type ActionVerdict, verdictOf } from './codes.js';
import { ocfEnvironment } from './environment.js';
import { actionNamed, deepestCheckLevel, monitorAt, type OcfMetadata, policyFromMetadata } from './metadata.js';
import { checkParams } from './params.js';

/**
 * The properties of an `ocf` resource: a Pacemaker OCF resource agent, run unmodified.
 *
 * @example
 * ```ts
 * monitor.addResource({
 *   name: 'dummy',
 *   type: 'ocf',
 *   properties: { agent: 'heartbeat/Dummy', params: { state: '/run/resmon/dummy.state' } },
 * });
 * ```
 */
export interface OcfProperties {
  /**
   * The agent: `PROVIDER/NAME` under `<root>/resource.d/` (`heartbeat/Dummy`,
   * `heartbeat/anything`), or an absolute path to an agent script.
   */
  agent: string;
  /**
   * The agent's parameters, passed as `OCF_RESKEY_<name>`. Checked against its meta-data: an
   * unknown name, a missing required one, or a value not of the advertised type
   * (integer, boolean, select) is a `ConfigError` naming it. `resmon ocf info AGENT` lists them.
   * @default {}
   */
  params?: Record<string, string | number | boolean>;
  /**
   * The OCF root (`OCF_ROOT`): where `resource.d/` and the agents' shell library live.
   * @default process.env.OCF_ROOT, else '/usr/lib/ocf'
   */
  root?: string;
}

/** `OcfProperties` after validation: the agent located, its meta-data read, the parameters checked. */
export interface OcfConfig {
  /** The agent as the resource names it. */
  readonly agent: string;
  /** Its executable. */
  readonly path: string;
  /** `OCF_ROOT`. */
  readonly root: string;
  /** `OCF_RESOURCE_PROVIDER`, null for an agent outside `<root>/resource.d`. */
  readonly provider: string | null;
  /** `OCF_RESOURCE_TYPE`. */
  readonly agentType: string;
  /** The parameters as the agent sees them (text). */
  readonly params: Readonly<Record<string, string>>;
  /** What the agent's meta-data says. */
  readonly metadata: OcfMetadata;
  /** The check level isAlive runs (`OCF_CHECK_LEVEL`): the deepest advertised monitor depth up to 20, else 0. */
  readonly checkLevel: number;
  /** The policy its advertised timeouts and intervals suggest (the type-level defaults of this resource). */
  readonly defaults: Partial<ResourcePolicy>;
  /** `HA_RSCTMP`. */
  readonly runtimeDir: string;
}

/** The per-resource state of an `ocf` resource (its `open` handle). */
export class OcfHandle {
  /** Process groups of this resource's actions whose process still runs. */
  readonly running = new Set<number>();
  /** The process group of the last successful `start`: daemons it launched live there. */
  startGroup: number | null = null;

  /** SIGKILLs the group of every action still running. */
  killRunning(): void {
    for (const pgid of this.running) signalGroup(pgid, 'SIGKILL');
    this.running.clear();
  }
}

/** Options of {@link createOcfType}. */
export interface OcfTypeOptions {
  /** The type's name (what resources put in `type`). @default 'ocf' */
  name?: string;
  /**
   * The writable directory agents get as `HA_RSCTMP` (state files such as Dummy's); created
   * with mode 0700 when missing.
   * @default '/run/resmon/ocf' for root, else '$XDG_RUNTIME_DIR/resmon/ocf', else '<tmpdir>/resmon-<uid>/ocf'
   */
  runtimeDir?: string;
  /** How long an agent may take to print its meta-data (ms) before it is killed and rejected. @default 5000 */
  metadataTimeout?: number;
}

/** The `ocf` resource type, with its meta-data cache. */
export interface OcfResourceType extends ResourceType<OcfConfig, OcfHandle> {
  /**
   * Reads an agent's meta-data without blocking and keeps it, so that `validate` (which must be
   * synchronous, and otherwise runs `meta-data` with a blocking call the first time it meets an
   * agent) finds it. Rejects with `ConfigError` naming the agent, as `validate` would.
   */
  preload(agent: string, root?: string): Promise<OcfMetadata>;
  /** The meta-data of an agent (read once, then cached), synchronously; throws `ConfigError` naming the agent. */
  metadata(agent: string, root?: string): OcfMetadata;
}

/**
 * True when the process that led group `pgid` (a finished `start`) is gone, so what still has
 * that group id is what it left behind. While any process has that group id, Linux does not hand
 * the number out again; once `/proc/<pgid>` exists, the number is some new process's and its
 * group is not ours. False where there is no /proc (nothing is killed then).
 */
function leaderGone(pgid: number): boolean {
  return existsSync('/proc/self') && !existsSync(`/proc/${pgid}`);
}

/**
 * How a change of properties reaches a running resource, as Pacemaker decides it: `''` when no
 * parameter changed (nothing to do); `reload-agent` (OCF 1.1) when the agent advertises it and
 * every changed parameter is `reloadable`; `reload` (the older convention) when the agent
 * advertises it and no changed parameter is `unique`; otherwise null: the change waits for the
 * next start (a different agent or root always does).
 */
export function reloadAction(next: OcfConfig, previous: OcfConfig): 'reload-agent' | 'reload' | '' | null {
  if (next.path !== previous.path || next.root !== previous.root) return null;
  const names = new Set([...Object.keys(next.params), ...Object.keys(previous.params)]);
  const changed = [...names].filter((n) => next.params[n] !== previous.params[n]);
  if (changed.length === 0) return '';
  const spec = (name: string) => next.metadata.parameters.find((p) => p.name === name);
  if (actionNamed(next.metadata, 'reload-agent') && changed.every((n) => spec(n)?.reloadable === true)) return 'reload-agent';
  if (actionNamed(next.metadata, 'reload') && changed.every((n) => spec(n)?.unique === false)) return 'reload';
  return null;
}

/** Pacemaker's default operation timeout, used for an action whose meta-data advertises none. */
const DEFAULT_ACTION_TIMEOUT_MS = 20_000;
const KEYS = ['agent', 'params', 'root'];

/**
 * Creates an `ocf` resource type (Pacemaker OCF resource agents). Each has its own
 * meta-data cache; the exported {@link ocfType} is one.
 *
 * - `validate` locates the agent, reads its meta-data once (cached, bounded by
 *   `metadataTimeout`) and checks `params` against it; `defaultsFor` turns its advertised
 *   timeouts and monitor intervals into the resource's type-level policy.
 * - `open` runs `validate-all` (when advertised), `online` runs `start`, `offline` runs `stop`,
 *   `looksAlive` runs `monitor` with `OCF_CHECK_LEVEL=0`, `isAlive` runs `monitor` at the deepest
 *   advertised level (≤ 20).
 * - `terminate` SIGKILLs the process group of any action still running, then runs `stop`
 *   (bounded by `deadlockTimeout`); should stop fail, it SIGKILLs the group the last `start`
 *   ran in (where the agent's daemons live) as a last resort.
 * - `applyProperties` (a `setProperties` while online) runs `reload-agent` or `reload` when the
 *   agent advertises it and the changed parameters allow it (see {@link reloadAction}); otherwise
 *   the change is `'stored'` for the next start.
 * - Control codes: `monitor.control(name, 'ocf-metadata')` answers the resource's agent's
 *   meta-data; `monitor.controlType('ocf', 'ocf-list-agents', { root? })` the installed agents,
 *   `monitor.controlType('ocf', 'ocf-metadata', { agent, root? })` an agent's meta-data.
 * - Exit codes: 0 success; 7 from monitor fails the check; any other an `OcfError`.
 */
export function createOcfType(options: OcfTypeOptions = {}): OcfResourceType {
  const name = options.name ?? 'ocf';
  const metadataTimeout = options.metadataTimeout ?? DEFAULT_METADATA_TIMEOUT_MS;
  if (typeof metadataTimeout !== 'number' || !Number.isFinite(metadataTimeout) || metadataTimeout <= 0) {
    throw new ConfigError('metadataTimeout', metadataTimeout, 'must be a finite number > 0 (milliseconds)', { context: 'createOcfType()' });
  }
  const cache = new Map<string, OcfMetadata>();
  let runtimeDir: string | null = null;
  const runtime = () => (runtimeDir ??= ensureRuntimeDir(options.runtimeDir ?? defaultRuntimeDir()));

  function metadataOf(located: LocatedAgent): OcfMetadata {
    let meta = cache.get(located.path);
    if (!meta) {
      meta = readMetadataSync(located, runtime(), metadataTimeout);
      cache.set(located.path, meta);
    }
    return meta;
  }

  function validate(properties: unknown): OcfConfig {
    const p = objectAt(properties, 'properties', 'an object with at least `agent` (PROVIDER/NAME or an absolute path)');
    onlyKeys(p, KEYS, '');
    const root = stringAt(p, 'root', '');
    if (root !== undefined && !path.isAbsolute(root)) throw new ConfigError('root', root, 'must be an absolute path (the OCF root, such as /usr/lib/ocf)');
    const located = locateAgent(p.agent, root);
    const metadata = metadataOf(located);
    const params = checkParams(p.params, metadata, located.agent);
    return {
      agent: located.agent,
      path: located.path,
      root: located.root,
      provider: located.provider,
      agentType: located.type,
      params,
      metadata,
      checkLevel: deepestCheckLevel(metadata),
      defaults: policyFromMetadata(metadata),
      runtimeDir: runtime(),
    };
  }

  /** Runs one action of the resource's agent, as its own process group, and maps its exit. */
  async function act(
    ctx: ResourceContext<OcfConfig, unknown>,
    handle: OcfHandle,
    action: string,
    checkLevel?: number,
    c: OcfConfig = ctx.properties,
  ): Promise<{ verdict: ActionVerdict; pgid: number | null }> {
    const advertised = action === 'monitor' ? monitorAt(c.metadata, checkLevel ?? 0) : actionNamed(c.metadata, action);
    const env = ocfEnvironment({
      root: c.root,
      type: c.agentType,
      provider: c.provider,
      instance: ctx.resource,
      params: c.params,
      timeoutMs: advertised?.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS,
      intervalMs: action === 'monitor' ? (advertised?.intervalMs ?? c.defaults.isAlivePollInterval ?? 60_000) : 0,
      ...(checkLevel !== undefined ? { checkLevel } : {}),
      runtimeDir: c.runtimeDir,
    });
    let pgid: number | null = null;
    const result = await runAction({
      path: c.path,
      action,
      env,
      signal: ctx.signal,
      log: ctx.log,
      onGroup: (group, running) => {
        pgid = group;
        if (running) handle.running.add(group);
        else handle.running.delete(group);
      },
    });
    const verdict = verdictOf(c.agent, action, result);
    if (verdict.kind === 'ok' && verdict.note) ctx.log.warn({ action }, verdict.note);
    return { verdict, pgid };
  }

  async function check(ctx: ResourceContext<OcfConfig, OcfHandle>, level: number): Promise<boolean> {
    const { verdict } = await act(ctx, ctx.handle, 'monitor', level);
    if (verdict.kind === 'ok') return true;
    if (verdict.kind === 'not-running') throw new Error(verdict.reason);
    throw verdict.error;
  }

  const type: OcfResourceType = {
    name,
    validate,
    defaultsFor: (config) => config.defaults,
    async open(ctx) {
      const handle = new OcfHandle();
      if (actionNamed(ctx.properties.metadata, 'validate-all')) {
        const { verdict } = await act(ctx, handle, 'validate-all');
        if (verdict.kind === 'error') throw verdict.error;
      }
      return handle;
    },
    async online(ctx) {
      const { verdict, pgid } = await act(ctx, ctx.handle, 'start');
      if (verdict.kind === 'error') throw verdict.error;
      ctx.handle.startGroup = pgid;
    },
    async offline(ctx) {
      const { verdict } = await act(ctx, ctx.handle, 'stop');
      if (verdict.kind === 'error') throw verdict.error;
      ctx.handle.startGroup = null;
    },
    async terminate(ctx) {
      const h = ctx.handle;
      h.killRunning();
      try {
        const { verdict } = await act(ctx, h, 'stop');
        if (verdict.kind === 'error') throw verdict.error;
        h.startGroup = null;
      } catch (error) {
        if (h.startGroup !== null && leaderGone(h.startGroup)) {
          ctx.log.warn({ action: 'stop' }, `stop failed during terminate; killing process group ${h.startGroup} of the last start`);
          signalGroup(h.startGroup, 'SIGKILL');
        }
        h.startGroup = null;
        throw error;
      }
    },
    async applyProperties(ctx, next, previous) {
      const action = reloadAction(next, previous);
      if (action === null) return 'stored';
      if (action === '') return undefined;
      const { verdict } = await act(ctx, ctx.handle, action, undefined, next);
      if (verdict.kind === 'error') throw verdict.error;
      return undefined;
    },
    control(ctx, code) {
      // The agent's meta-data as this resource uses it (JSON-safe).
      if (code === 'ocf-metadata') return ctx.properties.metadata;
      return DEFAULT_PROCESSING;
    },
    async typeControl(code, input) {
      const args = (typeof input === 'object' && input !== null ? input : {}) as { agent?: unknown; root?: unknown };
      const root = typeof args.root === 'string' ? args.root : undefined;
      if (code === 'ocf-list-agents') return listAgents(root);
      if (code === 'ocf-metadata') return type.preload(args.agent as string, root);
      return DEFAULT_PROCESSING;
    },
    looksAlive: (ctx) => check(ctx, 0),
    isAlive: (ctx) => check(ctx, ctx.properties.checkLevel),
    close(ctx) {
      ctx.handle?.killRunning();
    },
    async preload(agent, root) {
      const located = locateAgent(agent, root);
      const cached = cache.get(located.path);
      if (cached) return cached;
      const meta = await readMetadata(located, runtime(), metadataTimeout);
      cache.set(located.path, meta);
      return meta;
    },
    metadata: (agent, root) => metadataOf(locateAgent(agent, root)),
  };
  return type;
}

/**
 * The built-in `ocf` resource type: runs Pacemaker OCF resource agents unmodified. Register it
 * with `monitor.registerType(ocfType)` (`resmon run` does). See {@link createOcfType} for what
 * it does and {@link OcfProperties} for its properties.
 */
export const ocfType: OcfResourceType = createOcfType();
