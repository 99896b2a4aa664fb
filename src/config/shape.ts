import { type ConfigError, isConfigError } from '../errors.js';
import type { Isolation } from '../hosts/spec.js';
import { parseDependsOn } from '../graph.js';
import { type ResourcePolicy, validatePolicy } from '../policy.js';
import type { DependencyItem } from '../types.js';
import { type ConfigPath, type ParsedFile, parsePath, ruleOf } from './file.js';

/**
 * A plugin module named in the config file's `types` list: what `registerType({ module,
 * exportName, isolation })` takes.
 */
export interface ConfigTypeEntry {
  /** A path relative to the config file (or absolute, or a `file:` URL), or a package name. */
  module: string;
  /** The export that holds the type. @default 'default' */
  exportName?: string;
  /** `inline`, `worker` or `process` (DESIGN §7). @default 'inline' */
  isolation?: Isolation;
  /** Heap limits of the host (worker and process isolation). */
  resourceLimits?: Record<string, number>;
  /** Extra Node options for the host (worker and process isolation). */
  execArgv?: string[];
}

/** A resource in the config file: what `addResource` takes. */
export interface ConfigResourceEntry {
  /** Unique in the file. */
  name: string;
  /** A built-in type (`process`, `http`, `tcp`) or one a `types` module registers. */
  type: string;
  /** The type's properties. */
  properties?: Record<string, unknown>;
  /** The resource's own policy (DESIGN §4). */
  policy?: Partial<ResourcePolicy>;
  /** Its group (the unit brought online and taken offline as a whole). */
  group?: string;
  /** Resources that must be online first: names and `{ anyOf: [names] }`, in any order in the file. */
  dependsOn?: DependencyItem[];
}

/** `http:` in the config file: the status page and HTTP API of `resmon run`. */
export interface ConfigHttp {
  /** `HOST:PORT`, `:PORT` or `PORT`; the host defaults to 127.0.0.1. `--http` overrides it. */
  listen?: string;
  /** The bearer token of the mutating endpoints (RESMON_TOKEN overrides it). */
  token?: string;
}

/**
 * `cluster:` in the config file: `resmon run` shares its resources with other machines through
 * leases (resmon/cluster's `ClusterMember`): each unit (a group, or an ungrouped resource) runs on
 * one machine at a time. Exactly one of `etcd` and `postgres`.
 */
export interface ConfigCluster {
  /** This machine's node name, unique in the cluster. */
  node: string;
  /** Lease length in milliseconds. */
  ttl: number;
  safetyMargin?: number;
  preferredNodes?: Record<string, string[]>;
  failoverThreshold?: number;
  failoverPeriod?: number;
  /** As `ClusterMemberOptions.preferenceDelay` (ms, >= 0). */
  preferenceDelay?: number;
  /** As `ClusterMemberOptions.failbackDelay` (ms, >= 0; absent: no failback). */
  failbackDelay?: number;
  /** etcd endpoints (needs the `etcd3` package). */
  etcd?: { hosts: string | string[] };
  /** A PostgreSQL connection string (needs the `pg` package). */
  postgres?: { connectionString: string };
}

/** The shape of a `resmon run` config file, YAML or JSON. */
export interface ResmonConfig {
  /** The HTTP listener (opt-in). */
  http?: ConfigHttp;
  /** Share the resources with other machines by lease (opt-in). */
  cluster?: ConfigCluster;
  /** Monitor-wide policy defaults (over `resmon run`'s service defaults). */
  defaults?: Partial<ResourcePolicy>;
  /** Where the control socket is: `{ socket: './run/resmon.sock' }` (relative to the file). @default { socket: '.resmon/control.sock' } */
  control?: { socket?: string };
  /** Log files of the `process` resources. @default { dir: '.resmon/logs', maxSize: '10M', keep: 5 } */
  logs?: { dir?: string; maxSize?: string | number; keep?: number };
  /** Plugin modules beyond the built-in types. */
  types?: ConfigTypeEntry[];
  /** The resources to bring online and keep there. */
  resources: ConfigResourceEntry[];
}

/** An entry of the file, with its index there. */
export interface Indexed<T> {
  readonly index: number;
  readonly entry: T;
}

/** What {@link checkShape} found: the entries whose shape is right, and an error for each that is not. */
export interface CheckedShape {
  defaults: Partial<ResourcePolicy>;
  /** The control socket's path as written (relative to the file), or undefined. */
  controlSocket: string | undefined;
  /** The `logs` settings as written (`dir` relative to the file), each undefined when absent. */
  logs: { dir: string | undefined; maxSize: string | undefined; keep: number | undefined };
  types: Indexed<ConfigTypeEntry>[];
  resources: Indexed<ConfigResourceEntry>[];
  /** `http:`, when the file has it. */
  http: ConfigHttp | null;
  /** `cluster:`, when the file has it (and it is right). */
  cluster: ConfigCluster | null;
  errors: ConfigError[];
}

const TOP = ['defaults', 'types', 'resources', 'control', 'logs', 'http', 'cluster'];
const CLUSTER_KEYS = ['node', 'ttl', 'safetyMargin', 'preferredNodes', 'preferenceDelay', 'failbackDelay', 'failoverThreshold', 'failoverPeriod', 'etcd', 'postgres'];
const HTTP_KEYS = ['listen', 'token'];
const TYPE_KEYS = ['module', 'exportName', 'isolation', 'resourceLimits', 'execArgv'];
const RESOURCE_KEYS = ['name', 'type', 'properties', 'policy', 'group', 'dependsOn'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every error of a policy layer, not only the first: validates the layer, and on an error
 * reports it, drops the field it names and validates again. Returns the fields that passed.
 */
function policyErrors(
  layer: unknown,
  context: string,
  base: ConfigPath,
  err: (path: ConfigPath, value: unknown, rule: string) => void,
): Partial<ResourcePolicy> {
  if (!isObject(layer)) {
    try {
      return validatePolicy(layer, context, 'policy');
    } catch (error) {
      if (!isConfigError(error)) throw error;
      err(base, layer, ruleOf(error));
      return {};
    }
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(layer)) Object.defineProperty(copy, key, { value: layer[key], enumerable: true, writable: true, configurable: true });
  for (let tries = Object.keys(copy).length + 1; tries > 0; tries--) {
    try {
      return validatePolicy(copy, context, 'policy');
    } catch (error) {
      if (!isConfigError(error)) throw error;
      const [, field] = parsePath(error.field) as [string, string | undefined];
      err(field === undefined ? base : [...base, field], error.value, ruleOf(error));
      if (field === undefined || !Object.hasOwn(copy, field)) return {};
      delete copy[field];
    }
  }
  return {};
}

/**
 * Checks the structure of a parsed config file: the top-level keys, `defaults` (policy rules),
 * each `types` entry and each resource's name, type, properties and policy. Collects every
 * error, not only the first of an entry: a resource whose policy has errors is still handed
 * on (without the faulty fields) so that its type and properties are checked too.
 */
export function checkShape(parsed: ParsedFile): CheckedShape {
  const errors: ConfigError[] = [];
  const out: CheckedShape = { defaults: {}, controlSocket: undefined, logs: { dir: undefined, maxSize: undefined, keep: undefined }, types: [], resources: [], http: null, cluster: null, errors };
  const err = (path: ConfigPath, value: unknown, rule: string) => errors.push(parsed.error(path, value, rule));
  const data = parsed.data;
  if (!isObject(data)) {
    err([], data, 'must be a mapping with `resources` (and optionally `defaults`, `types`, `control`, `logs` and `http`)');
    return out;
  }
  for (const key of Object.keys(data)) {
    if (!TOP.includes(key)) err([key], data[key], `is not a top-level field (known: ${TOP.join(', ')})`);
  }
  if (data.defaults !== undefined) out.defaults = policyErrors(data.defaults, parsed.file, ['defaults'], err);
  if (data.control !== undefined) {
    if (!isObject(data.control)) err(['control'], data.control, 'must be a mapping { socket }');
    else {
      for (const key of Object.keys(data.control)) if (key !== 'socket') err(['control', key], data.control[key], 'is not a field of control (known: socket)');
      const socket = data.control.socket;
      if (socket !== undefined && (typeof socket !== 'string' || socket.length === 0 || socket.includes('\0'))) {
        err(['control', 'socket'], socket, 'must be a path (relative to this file)');
      } else out.controlSocket = socket as string | undefined;
    }
  }
  if (data.logs !== undefined) {
    if (!isObject(data.logs)) err(['logs'], data.logs, 'must be a mapping { dir, maxSize, keep }');
    else {
      const logs = data.logs;
      for (const key of Object.keys(logs)) if (!['dir', 'maxSize', 'keep'].includes(key)) err(['logs', key], logs[key], 'is not a field of logs (known: dir, maxSize, keep)');
      if (logs.dir !== undefined && (typeof logs.dir !== 'string' || logs.dir.length === 0 || logs.dir.includes('\0'))) err(['logs', 'dir'], logs.dir, 'must be a path (relative to this file)');
      else out.logs.dir = logs.dir as string | undefined;
      const size = logs.maxSize;
      if (typeof size === 'number' && Number.isInteger(size) && size >= 1) out.logs.maxSize = `${size}B`;
      else if (typeof size === 'string' && /^[1-9]\d*[BKMG]$/.test(size)) out.logs.maxSize = size;
      else if (size !== undefined) err(['logs', 'maxSize'], size, 'must be a size such as 10M, 500K, 1G or a number of bytes');
      const keep = logs.keep;
      if (keep !== undefined && (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 1 || keep > 1_000)) err(['logs', 'keep'], keep, 'must be an integer 1..1000 (rotated files kept)');
      else out.logs.keep = keep as number | undefined;
    }
  }
  if (data.types !== undefined) {
    if (!Array.isArray(data.types)) err(['types'], data.types, 'must be a list of { module, exportName?, isolation? }');
    else data.types.forEach((entry, index) => checkType(entry, index));
  }
  if (data.http !== undefined) checkHttp(data.http);
  if (data.cluster !== undefined) checkCluster(data.cluster);
  if (!Array.isArray(data.resources) || data.resources.length === 0) {
    err(['resources'], data.resources, 'must be a non-empty list of { name, type, properties?, policy? }');
  } else {
    const names = new Map<string, number>();
    data.resources.forEach((entry, index) => checkResource(entry, index, names));
    if (out.cluster?.preferredNodes) checkPreferredNodes(out.cluster.preferredNodes, data.resources);
  }
  return out;

  /** cluster.preferredNodes is keyed by unit: a group, or a resource without one. */
  function checkPreferredNodes(preferred: Record<string, unknown>, resources: unknown[]): void {
    const entries = resources.filter(isObject).map((r) => ({ name: String(r.name), group: typeof r.group === 'string' ? r.group : null }));
    const units = [...new Set(entries.map((r) => r.group ?? r.name))];
    for (const key of Object.keys(preferred)) {
      if (units.includes(key)) continue;
      const grouped = entries.find((r) => r.name === key);
      const rule = grouped
        ? `names resource "${key}" of group "${grouped.group}": a group's resources move together, so key it by the group ("${grouped.group}")`
        : `names no group or ungrouped resource of this file (units: ${units.join(', ')})`;
      err(['cluster', 'preferredNodes', key], preferred[key], rule);
      out.cluster = null;
    }
  }

  function checkHttp(http: unknown): void {
    if (!isObject(http)) return void err(['http'], http, 'must be a mapping { listen?, token? }');
    const unknown = Object.keys(http).find((k) => !HTTP_KEYS.includes(k));
    if (unknown) return void err(['http', unknown], http[unknown], `is not a field of http (known: ${HTTP_KEYS.join(', ')})`);
    if (http.listen !== undefined && (typeof http.listen !== 'string' || !/^(\[[0-9a-fA-F:.]+\]:|[^:[\]]*:)?\d{1,5}$/.test(http.listen) || Number(http.listen.split(':').pop()) > 65_535)) {
      return void err(['http', 'listen'], http.listen, 'must be HOST:PORT, :PORT or PORT (the host defaults to 127.0.0.1)');
    }
    if (http.token !== undefined && (typeof http.token !== 'string' || http.token.length < 16)) {
      return void err(['http', 'token'], '(hidden)', 'must be a string of at least 16 characters');
    }
    out.http = http as ConfigHttp;
  }

  function checkCluster(c: unknown): void {
    if (!isObject(c)) return void err(['cluster'], c, 'must be a mapping { node, ttl, etcd: { hosts } | postgres: { connectionString } }');
    const before = errors.length;
    for (const key of Object.keys(c)) if (!CLUSTER_KEYS.includes(key)) err(['cluster', key], c[key], `is not a field of cluster (known: ${CLUSTER_KEYS.join(', ')})`);
    if (typeof c.node !== 'string' || c.node.length === 0) err(['cluster', 'node'], c.node, "must be this machine's node name (a non-empty string)");
    if (typeof c.ttl !== 'number' || !Number.isFinite(c.ttl) || c.ttl < 30) err(['cluster', 'ttl'], c.ttl, 'must be a number >= 30 (milliseconds)');
    for (const key of ['safetyMargin', 'failoverPeriod'] as const) {
      if (c[key] !== undefined && (typeof c[key] !== 'number' || !Number.isFinite(c[key]) || c[key] <= 0)) err(['cluster', key], c[key], 'must be a number > 0 (milliseconds)');
    }
    for (const key of ['preferenceDelay', 'failbackDelay'] as const) {
      if (c[key] !== undefined && (typeof c[key] !== 'number' || !Number.isFinite(c[key]) || c[key] < 0)) err(['cluster', key], c[key], 'must be a number >= 0 (milliseconds)');
    }
    if (c.failoverThreshold !== undefined && (typeof c.failoverThreshold !== 'number' || !Number.isInteger(c.failoverThreshold) || c.failoverThreshold < 0)) {
      err(['cluster', 'failoverThreshold'], c.failoverThreshold, 'must be an integer >= 0');
    }
    if (c.preferredNodes !== undefined) {
      if (!isObject(c.preferredNodes)) err(['cluster', 'preferredNodes'], c.preferredNodes, 'must be a mapping { unit: [node, ...] }');
      else {
        for (const [unit, nodes] of Object.entries(c.preferredNodes)) {
          if (!Array.isArray(nodes) || nodes.some((n) => typeof n !== 'string' || n.length === 0)) err(['cluster', 'preferredNodes', unit], nodes, 'must be a list of node names');
        }
      }
    }
    const stores = ['etcd', 'postgres'].filter((k) => c[k] !== undefined);
    if (stores.length !== 1) err(['cluster'], stores, 'must have exactly one store: etcd: { hosts } or postgres: { connectionString }');
    if (c.etcd !== undefined) {
      const hosts = isObject(c.etcd) ? c.etcd.hosts : undefined;
      if (!isObject(c.etcd) || Object.keys(c.etcd).some((k) => k !== 'hosts')) err(['cluster', 'etcd'], c.etcd, 'must be a mapping { hosts }');
      else if (!(typeof hosts === 'string' && hosts.length > 0) && !(Array.isArray(hosts) && hosts.length > 0 && hosts.every((h) => typeof h === 'string' && h.length > 0))) {
        err(['cluster', 'etcd', 'hosts'], hosts, "must be etcd endpoints: 'host:port', comma-separated, or a list");
      }
    }
    if (c.postgres !== undefined) {
      if (!isObject(c.postgres) || Object.keys(c.postgres).some((k) => k !== 'connectionString')) err(['cluster', 'postgres'], c.postgres, 'must be a mapping { connectionString }');
      else if (typeof c.postgres.connectionString !== 'string' || c.postgres.connectionString.length === 0) {
        err(['cluster', 'postgres', 'connectionString'], '(hidden)', "must be a PostgreSQL connection string ('postgres://user@host:5432/db')");
      }
    }
    if (errors.length === before) out.cluster = c as unknown as ConfigCluster;
  }

  function checkType(entry: unknown, index: number): void {
    const at = ['types', index];
    if (!isObject(entry)) return void err(at, entry, 'must be a mapping { module, exportName?, isolation? }');
    let ok = true;
    for (const key of Object.keys(entry)) {
      if (TYPE_KEYS.includes(key)) continue;
      err([...at, key], entry[key], `is not a field of a type entry (known: ${TYPE_KEYS.join(', ')})`);
      ok = false;
    }
    if (typeof entry.module !== 'string' || entry.module.length === 0) {
      err([...at, 'module'], entry.module, 'is required: a path relative to the config file, or a package name');
      ok = false;
    }
    if (entry.exportName !== undefined && (typeof entry.exportName !== 'string' || entry.exportName.length === 0)) {
      err([...at, 'exportName'], entry.exportName, 'must be a non-empty string');
      ok = false;
    }
    if (entry.isolation !== undefined && !['inline', 'worker', 'process'].includes(entry.isolation as string)) {
      err([...at, 'isolation'], entry.isolation, "must be 'inline', 'worker' or 'process'");
      ok = false;
    }
    if (ok) out.types.push({ index, entry: entry as unknown as ConfigTypeEntry });
  }

  function checkResource(entry: unknown, index: number, names: Map<string, number>): void {
    const at = ['resources', index];
    if (!isObject(entry)) return void err(at, entry, 'must be a mapping { name, type, properties?, policy?, group?, dependsOn? }');
    let ok = true;
    for (const key of Object.keys(entry)) {
      if (RESOURCE_KEYS.includes(key)) continue;
      err([...at, key], entry[key], `is not a field of a resource (known: ${RESOURCE_KEYS.join(', ')})`);
    }
    if (typeof entry.name !== 'string' || entry.name.length === 0) {
      err([...at, 'name'], entry.name, 'is required: a non-empty string');
      ok = false;
    } else {
      const first = names.get(entry.name);
      if (first !== undefined) {
        err([...at, 'name'], entry.name, `is already the name of resources[${first}]; names must be unique`);
        ok = false;
      } else names.set(entry.name, index);
    }
    if (typeof entry.type !== 'string' || entry.type.length === 0) {
      err([...at, 'type'], entry.type, 'is required: process, http, tcp, ocf, or a type from `types`');
      ok = false;
    }
    if (entry.properties !== undefined && !isObject(entry.properties)) {
      err([...at, 'properties'], entry.properties, 'must be a mapping');
      ok = false;
    }
    const policy = entry.policy === undefined ? undefined : policyErrors(entry.policy, parsed.file, [...at, 'policy'], err);
    if (entry.group !== undefined && (typeof entry.group !== 'string' || entry.group.length === 0)) {
      err([...at, 'group'], entry.group, 'must be a non-empty string (the name of a group)');
      ok = false;
    }
    let dependsOn: DependencyItem[] | undefined;
    try {
      dependsOn = entry.dependsOn === undefined ? undefined : parseDependsOn(entry.dependsOn, parsed.file).given;
    } catch (error) {
      if (!isConfigError(error)) throw error;
      err([...at, ...parsePath(error.field)], error.value, ruleOf(error));
      ok = false;
    }
    if (!ok) return;
    const resource: Record<string, unknown> = { name: entry.name, type: entry.type };
    if (entry.properties !== undefined) resource.properties = entry.properties;
    if (policy !== undefined) resource.policy = policy;
    if (entry.group !== undefined) resource.group = entry.group;
    if (dependsOn !== undefined) resource.dependsOn = dependsOn;
    out.resources.push({ index, entry: resource as unknown as ConfigResourceEntry });
  }
}
