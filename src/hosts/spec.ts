import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';

/** Where a resource type runs: inline (in the monitor's thread), in a worker thread, or in a child process. */
export type Isolation = 'inline' | 'worker' | 'process';

/**
 * V8 heap limits of a host. A worker host passes them to `new Worker({ resourceLimits })`; a
 * process host turns `maxOldGenerationSizeMb` into `--max-old-space-size` (the other two apply
 * to workers only). A plugin that passes them kills its host, not the embedder.
 */
export interface HostResourceLimits {
  /** The main heap, in MB. */
  maxOldGenerationSizeMb?: number;
  /** The young generation, in MB (worker hosts only). */
  maxYoungGenerationSizeMb?: number;
  /** The thread's stack, in MB (worker hosts only). */
  stackSizeMb?: number;
}

/**
 * What `registerType()` takes to load a type from a module, inline or in an isolation host.
 *
 * @example
 * ```ts
 * await monitor.registerType({ module: './types/queue.js', exportName: 'queueType', isolation: 'worker' });
 * ```
 */
export interface HostedTypeSpec {
  /**
   * The module that exports the type: a path (relative paths resolve against the current
   * working directory) or a `file:` URL. The host imports it, so it must be JavaScript the host
   * can run (or TypeScript, with `execArgv: ['--import', 'tsx']` in a process host).
   */
  module: string | URL;
  /**
   * The export that holds the type.
   * @default 'default'
   */
  exportName?: string;
  /**
   * `'inline'`: imported into the monitor's own thread; `'worker'`: a worker thread;
   * `'process'`: a child process. Resources of one isolation kind share one host unless their
   * policy sets `separateMonitor`.
   */
  isolation: Isolation;
  /** Heap limits of the host (worker and process hosts). Types with different limits get different hosts. */
  resourceLimits?: HostResourceLimits;
  /** Extra Node options for the host (worker and process hosts). Types with different options get different hosts. */
  execArgv?: string[];
}

/** A checked spec: the module as a URL string and the defaults filled in. */
export interface CheckedSpec {
  module: string;
  exportName: string;
  isolation: Isolation;
  resourceLimits: HostResourceLimits | undefined;
  execArgv: string[];
}

const KEYS = new Set(['module', 'exportName', 'isolation', 'resourceLimits', 'execArgv']);
const LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'stackSizeMb'] as const;

/** True for what looks like a module spec rather than a plugin object. */
export function isHostedTypeSpec(value: unknown): value is HostedTypeSpec {
  return typeof value === 'object' && value !== null && 'module' in value && !('online' in value);
}

/** Checks a spec: throws `ConfigError` naming the field, the value and the rule. */
export function checkSpec(spec: HostedTypeSpec): CheckedSpec {
  const context = 'registerType()';
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) {
      throw new ConfigError(key, (spec as unknown as Record<string, unknown>)[key], `is not a field of a hosted type spec (${[...KEYS].join(', ')})`, {
        context,
      });
    }
  }
  const { module, exportName = 'default', isolation, resourceLimits, execArgv = [] } = spec;
  let url: string;
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw new ConfigError('module', module.href, 'must be a path or a file: URL', { context });
    url = module.href;
  } else if (typeof module === 'string' && module.startsWith('file:')) {
    url = new URL(module).href;
  } else if (typeof module === 'string' && (isAbsolute(module) || module.startsWith('./') || module.startsWith('../'))) {
    url = pathToFileURL(resolve(module)).href;
  } else {
    throw new ConfigError('module', module, 'must be a path (absolute, or starting with ./ or ../) or a file: URL', { context });
  }
  if (typeof exportName !== 'string' || exportName.length === 0) {
    throw new ConfigError('exportName', exportName, 'must be a non-empty string', { context });
  }
  if (isolation !== 'inline' && isolation !== 'worker' && isolation !== 'process') {
    throw new ConfigError('isolation', isolation, "must be 'inline', 'worker' or 'process'", { context });
  }
  if (resourceLimits !== undefined) {
    if (typeof resourceLimits !== 'object' || resourceLimits === null) {
      throw new ConfigError('resourceLimits', resourceLimits, 'must be an object { maxOldGenerationSizeMb?, maxYoungGenerationSizeMb?, stackSizeMb? }', {
        context,
      });
    }
    for (const key of Object.keys(resourceLimits)) {
      const value = (resourceLimits as Record<string, unknown>)[key];
      if (!(LIMITS as readonly string[]).includes(key)) {
        throw new ConfigError(`resourceLimits.${key}`, value, `is not a limit (${LIMITS.join(', ')})`, { context });
      }
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        throw new ConfigError(`resourceLimits.${key}`, value, 'must be a finite number > 0 (MB)', { context });
      }
    }
  }
  if (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== 'string')) {
    throw new ConfigError('execArgv', execArgv, 'must be an array of strings', { context });
  }
  return {
    module: url,
    exportName,
    isolation,
    resourceLimits: resourceLimits ? { ...resourceLimits } : undefined,
    execArgv: [...execArgv],
  };
}
