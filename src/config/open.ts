import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createProcessType, type ProcessResourceType, type ProcessTypeOptions } from '../builtins/process.js';
import type { ResourcePolicy } from '../policy.js';
import type { ResourceSpec } from '../types.js';
import { serviceDefaults } from './service.js';
import { httpType } from '../builtins/http.js';
import { tcpType } from '../builtins/tcp.js';
import { createOcfType } from '../builtins/ocf/type.js';
import { type ConfigError, isConfigError, isDuplicateError, isUnknownTypeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ResourceMonitor } from '../monitor.js';
import { ConfigFileError, type ConfigPath, type ParsedFile, parsePath, readConfigFile, ruleOf } from './file.js';
import { checkDependencies } from './dependencies.js';
import { checkShape, type ConfigCluster, type ConfigHttp, type ConfigResourceEntry, type ConfigTypeEntry, type Indexed } from './shape.js';

/** How {@link openConfig} builds the monitor. */
export interface OpenConfigOptions {
  /** The monitor's logger. */
  logger?: Logger;
  /**
   * `'validate'`: import every `types` module inline (no host starts) so each resource's
   * properties go through its type's own `validate`. `'run'`: register each module with the
   * isolation the file asks for (a hosted type then checks properties in its host, at the
   * resource's first call).
   * @default 'run'
   */
  mode?: 'run' | 'validate';
  /** Options of the `process` type this monitor gets (`onOutput` for log files). */
  processType?: ProcessTypeOptions;
  /**
   * Put `resmon run`'s service defaults ({@link SERVICE_DEFAULTS}) under the file's `defaults`.
   * @default true
   */
  serviceDefaults?: boolean;
}

/** A monitor built from a config file: every type registered, every resource added, none started. */
export interface OpenedConfig {
  /** The file as named. */
  readonly file: string;
  readonly monitor: ResourceMonitor;
  /** This monitor's own `process` type (for `output()` and `killAll()`). */
  readonly processType: ProcessResourceType;
  /** The resources, in file order. */
  readonly resources: string[];
  /** Every resource as `addResource` took it (a process's `cwd` resolved), by name, in file order. */
  readonly specs: Map<string, ResourceSpec>;
  /** The `types` entries as checked. */
  readonly types: ConfigTypeEntry[];
  /** The monitor defaults: the file's `defaults` over the service layer. */
  readonly defaults: Partial<ResourcePolicy>;
  /** The file's own `defaults`. */
  readonly fileDefaults: Partial<ResourcePolicy>;
  /** The control socket's absolute path. */
  readonly controlSocket: string;
  /** The log settings, `dir` absolute. */
  readonly logs: LogSettingsShape;
  /** The file's `http:` section, or null. */
  readonly http: ConfigHttp | null;
  /** The file's `cluster:` section, or null: `resmon run` then lets a `ClusterMember` bring the resources online. */
  readonly cluster: ConfigCluster | null;
  /**
   * What may go wrong but need not: a `process` command that is not on PATH (or a relative
   * path that does not exist yet). Each names the file, line and path like an error.
   */
  readonly warnings: ConfigError[];
}

/**
 * Reads a config file (DESIGN §10) and builds a monitor from it: monitor defaults, the built-in
 * types, the `types` modules, every resource. Nothing is started. Throws `ConfigFileError`
 * listing every problem, each naming the file, the line, the path inside the file
 * (`resources[2].policy.restartDelay`) and the rule; no monitor is left open then.
 */
export async function openConfig(file: string, options: OpenConfigOptions = {}): Promise<OpenedConfig> {
  const parsed = await readConfigFile(file);
  const shape = checkShape(parsed);
  const errors = shape.errors;
  const processType = createProcessType(options.processType ?? {});
  const defaults = options.serviceDefaults === false ? shape.defaults : serviceDefaults(shape.defaults);
  const monitor = new ResourceMonitor({ defaults, ...(options.logger ? { logger: options.logger } : {}) });
  let modules = 0;
  monitor.registerType(processType);
  monitor.registerType(httpType);
  monitor.registerType(tcpType);
  monitor.registerType(createOcfType());
  const dir = path.dirname(path.resolve(file));
  for (const type of shape.types) {
    if (await registerModule(monitor, type, dir, options.mode ?? 'run', parsed, errors)) modules++;
  }
  const added: string[] = [];
  const specs = new Map<string, ResourceSpec>();
  const warnings: ConfigError[] = [];
  const known = `process, http, tcp, ocf${modules > 0 ? ', or a type registered by a `types` module' : ''}`;
  // Dependencies first (the file may list resources in any order); a broken dependsOn is reported and left out.
  const deps = checkDependencies(shape.resources, parsed);
  errors.push(...deps.errors);
  const ok = new Set<string>();
  for (const resource of deps.order) {
    const wanted = resource.entry.dependsOn;
    const usable = !deps.broken.has(resource.entry.name) && (wanted ?? []).every((item) => (typeof item === 'string' ? [item] : item.anyOf).every((n) => ok.has(n)));
    const { dependsOn: _unused, ...rest } = resource.entry;
    const entry: Indexed<ConfigResourceEntry> = usable ? resource : { index: resource.index, entry: rest };
    if (addResource(monitor, entry, dir, known, parsed, errors)) {
      ok.add(resource.entry.name);
      specs.set(resource.entry.name, resourceSpec(entry.entry, dir));
      if (resource.entry.type === 'process') checkCommand(resource, dir, parsed, errors, warnings);
    }
  }
  for (const resource of shape.resources) if (ok.has(resource.entry.name)) added.push(resource.entry.name);
  const inOrder = new Map(added.map((name) => [name, specs.get(name) as ResourceSpec]));
  warnings.sort((a, b) => order(a) - order(b));
  if (errors.length > 0) {
    await monitor.close();
    errors.sort((a, b) => order(a) - order(b));
    throw new ConfigFileError(file, errors, warnings);
  }
  return {
    file,
    monitor,
    processType,
    resources: added,
    specs: inOrder,
    types: shape.types.map((t) => t.entry),
    defaults,
    fileDefaults: shape.defaults,
    controlSocket: path.resolve(dir, shape.controlSocket ?? '.resmon/control.sock'),
    logs: { dir: path.resolve(dir, shape.logs.dir ?? '.resmon/logs'), maxSize: shape.logs.maxSize ?? '10M', keep: shape.logs.keep ?? 5 },
    warnings,
    http: shape.http,
    cluster: shape.cluster,
  };
}

/** The log settings of a config file, with their defaults. */
export interface LogSettingsShape {
  dir: string;
  maxSize: string;
  keep: number;
}

/** What `addResource` takes for a resource of the file: a process runs in the file's folder unless its `cwd` says otherwise (relative to the file). */
export function resourceSpec(entry: ConfigResourceEntry, dir: string): ResourceSpec {
  let properties: Record<string, unknown> | undefined = entry.properties;
  if (entry.type === 'process') {
    const cwd = properties?.cwd;
    if (cwd === undefined || typeof cwd === 'string') properties = { ...properties, cwd: path.resolve(dir, cwd ?? '.') };
  }
  return {
    name: entry.name,
    type: entry.type,
    ...(properties !== undefined ? { properties } : {}),
    ...(entry.policy !== undefined ? { policy: entry.policy } : {}),
    ...(entry.group !== undefined ? { group: entry.group } : {}),
    ...(entry.dependsOn !== undefined ? { dependsOn: entry.dependsOn } : {}),
  };
}

/** True when `file` is a regular file this user may execute. */
function executable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that a process resource's command can be found, as spawn will look for it: an
 * absolute path must exist and be executable (an error); a relative path (resolved against
 * `cwd`) or a bare name searched on PATH may appear before the resource starts (a warning).
 */
function checkCommand(
  { index, entry }: Indexed<ConfigResourceEntry>,
  dir: string,
  parsed: ParsedFile,
  errors: ConfigError[],
  warnings: ConfigError[],
): void {
  const p = entry.properties ?? {};
  const command = p.command as string;
  const at: ConfigPath = ['resources', index, 'properties', 'command'];
  const cwd = path.resolve(dir, typeof p.cwd === 'string' ? p.cwd : '.');
  if (path.isAbsolute(command)) {
    if (!executable(command)) errors.push(parsed.error(at, command, existsSync(command) ? 'is not an executable file' : 'does not exist'));
    return;
  }
  if (command.includes('/')) {
    const full = path.resolve(cwd, command);
    if (!executable(full)) warnings.push(parsed.error(at, command, `is not an executable file yet (${full}); the resource cannot start until it is`));
    return;
  }
  const env = (p.env ?? {}) as Record<string, unknown>;
  const search = typeof env.PATH === 'string' ? env.PATH : (process.env.PATH ?? '');
  const found = search.split(path.delimiter).some((d) => d !== '' && executable(path.resolve(cwd, d, command)));
  if (!found) warnings.push(parsed.error(at, command, 'is not found on PATH; the resource cannot start until it is'));
}

/** Sorts errors by their line in the file (the context ends in `:line:col`). */
function order(error: ConfigError): number {
  const match = /:(\d+):(\d+): /.exec(error.message);
  return match ? Number(match[1]) * 10_000 + Number(match[2]) : 0;
}

/** The module of a `types` entry as an absolute path or URL: relative paths resolve against the config file. */
function resolveModule(module: string, dir: string): string {
  if (module.startsWith('file:')) return module;
  if (path.isAbsolute(module) || module.startsWith('./') || module.startsWith('../')) return pathToFileURL(path.resolve(dir, module)).href;
  return pathToFileURL(createRequire(path.join(dir, 'resmon.config')).resolve(module)).href;
}

async function registerModule(
  monitor: ResourceMonitor,
  { index, entry }: Indexed<ConfigTypeEntry>,
  dir: string,
  mode: 'run' | 'validate',
  parsed: ParsedFile,
  errors: ConfigError[],
): Promise<boolean> {
  const at: ConfigPath = ['types', index];
  let module: string;
  try {
    module = resolveModule(entry.module, dir);
  } catch (error) {
    errors.push(parsed.error([...at, 'module'], entry.module, `cannot be resolved from ${dir}: ${(error as Error).message.split('\n')[0]}`));
    return false;
  }
  const isolation = mode === 'validate' ? 'inline' : (entry.isolation ?? 'inline');
  const spec = { ...entry, module, isolation };
  try {
    await monitor.registerType(spec);
    return true;
  } catch (error) {
    if (isConfigError(error)) {
      const field = error.field;
      const own = ['module', 'exportName', 'isolation', 'resourceLimits', 'execArgv'].some((k) => field === k || field.startsWith(`${k}.`));
      errors.push(
        own
          ? parsed.error([...at, ...parsePath(field)], entry[field as keyof ConfigTypeEntry] ?? error.value, ruleOf(error), error)
          : parsed.error(at, entry.module, `does not export a valid resource type: ${field} ${ruleOf(error)}`, error),
      );
    } else if (isDuplicateError(error)) {
      errors.push(parsed.error(at, entry.module, `registers a type whose name is taken: ${error.message}`, error));
    } else {
      errors.push(parsed.error([...at, 'module'], entry.module, `could not be loaded: ${(error as Error)?.message?.split('\n')[0] ?? String(error)}`, error));
    }
    return false;
  }
}

function addResource(
  monitor: ResourceMonitor,
  { index, entry }: Indexed<ConfigResourceEntry>,
  dir: string,
  known: string,
  parsed: ParsedFile,
  errors: ConfigError[],
): boolean {
  const at: ConfigPath = ['resources', index];
  try {
    monitor.addResource(resourceSpec(entry, dir));
    return true;
  } catch (error) {
    if (isUnknownTypeError(error)) {
      errors.push(parsed.error([...at, 'type'], entry.type, `is not a known type (known: ${known})`, error));
    } else if (isConfigError(error) && error.field === 'properties' && isConfigError(error.cause)) {
      const cause = error.cause;
      errors.push(parsed.error([...at, 'properties', ...parsePath(cause.field)], cause.value, ruleOf(cause), error));
    } else if (isConfigError(error)) {
      const value = error.field === 'properties' ? entry.properties : error.value;
      errors.push(parsed.error([...at, ...parsePath(error.field)], value, ruleOf(error), error));
    } else {
      errors.push(parsed.error(at, entry.name, `cannot be added: ${(error as Error)?.message ?? String(error)}`, error));
    }
    return false;
  }
}
