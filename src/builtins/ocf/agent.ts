import { type SpawnSyncOptionsWithStringEncoding, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, reasonOf } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import { signalGroup } from '../group.js';
import { runAction } from './action.js';
import { ocfEnvironment } from './environment.js';
import { type OcfMetadata, parseMetadata } from './metadata.js';

/** The OCF root when neither the `root` property nor `OCF_ROOT` says otherwise. */
export const DEFAULT_OCF_ROOT = '/usr/lib/ocf';
/** How long an agent may take to print its meta-data before it is killed and rejected. */
export const DEFAULT_METADATA_TIMEOUT_MS = 5_000;
/** The most meta-data resmon reads from an agent. */
const MAX_METADATA_BYTES = 4 * 1024 * 1024;

/** An agent found on disk. */
export interface LocatedAgent {
  /** As the resource named it: `heartbeat/Dummy` or an absolute path. */
  readonly agent: string;
  /** Its executable. */
  readonly path: string;
  /** The OCF root it runs with. */
  readonly root: string;
  /** `OCF_RESOURCE_PROVIDER`: the provider directory, null for a path outside `<root>/resource.d`. */
  readonly provider: string | null;
  /** `OCF_RESOURCE_TYPE`: the file name. */
  readonly type: string;
}

const PART = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

/** The OCF root: the `root` given, else `OCF_ROOT`, else `/usr/lib/ocf`. */
export function ocfRoot(root?: string): string {
  return path.resolve(root ?? process.env.OCF_ROOT ?? DEFAULT_OCF_ROOT);
}

/**
 * Finds an agent: `PROVIDER/NAME` under `<root>/resource.d/`, or an absolute path. Throws
 * `ConfigError` on `agent` when the name has another form, the file does not exist, is not a
 * file, or is not executable.
 */
export function locateAgent(agent: unknown, root?: string): LocatedAgent {
  if (typeof agent !== 'string' || agent.length === 0) {
    throw new ConfigError('agent', agent, 'is required: PROVIDER/NAME of an OCF resource agent (heartbeat/Dummy) or an absolute path');
  }
  const base = ocfRoot(root);
  let file: string;
  let provider: string | null;
  if (path.isAbsolute(agent)) {
    file = path.normalize(agent);
    const parent = path.dirname(file);
    provider = path.dirname(parent) === path.join(base, 'resource.d') ? path.basename(parent) : null;
  } else {
    const parts = agent.split('/');
    if (parts.length !== 2 || !parts.every((p) => PART.test(p))) {
      throw new ConfigError('agent', agent, 'must be PROVIDER/NAME (heartbeat/Dummy) or an absolute path to an agent');
    }
    provider = parts[0]!;
    file = path.join(base, 'resource.d', provider, parts[1]!);
  }
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new ConfigError('agent', agent, `names no agent: ${file} does not exist (resmon ocf list shows the agents under ${base}; is resource-agents installed?)`);
  }
  if (!stat.isFile()) throw new ConfigError('agent', agent, `names no agent: ${file} is not a file`);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new ConfigError('agent', agent, `names an agent that is not executable: ${file} (chmod +x it)`);
  }
  return { agent, path: file, root: base, provider, type: path.basename(file) };
}

/**
 * The directory agents get as `HA_RSCTMP` (where they keep state files): created if missing,
 * mode 0700. `/run/resmon/ocf` for root, else `$XDG_RUNTIME_DIR/resmon/ocf`, else
 * `<tmpdir>/resmon-<uid>/ocf`.
 */
export function defaultRuntimeDir(): string {
  const uid = process.getuid?.() ?? -1;
  if (uid === 0) return '/run/resmon/ocf';
  if (process.env.XDG_RUNTIME_DIR) return path.join(process.env.XDG_RUNTIME_DIR, 'resmon', 'ocf');
  return path.join(tmpdir(), `resmon-${uid}`, 'ocf');
}

/** Creates the runtime directory (and its parents) if missing; throws ConfigError naming it when it cannot. */
export function ensureRuntimeDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new ConfigError('runtimeDir', dir, `must be a writable directory for agents' state (HA_RSCTMP): ${reasonOf(error)}`);
  }
  return dir;
}

function metadataEnv(located: LocatedAgent, runtimeDir: string): Record<string, string> {
  return ocfEnvironment({ root: located.root, type: located.type, provider: located.provider, runtimeDir });
}

function parsed(located: LocatedAgent, stdout: string): OcfMetadata {
  try {
    return parseMetadata(stdout);
  } catch (error) {
    throw new ConfigError('agent', located.agent, `is not a usable OCF agent: ${reasonOf(error)}`, { cause: error });
  }
}

function failed(located: LocatedAgent, code: number | null, signal: string | null, stderr: string): ConfigError {
  const tail = stderr.trim().split('\n').slice(-3).join(' | ');
  const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
  return new ConfigError('agent', located.agent, `is not a usable OCF agent: ${located.path} meta-data ${how}${tail ? `: ${tail}` : ''}`);
}

/**
 * Runs `<agent> meta-data` synchronously (what a resource's `validate` needs), in a process
 * group of its own, killed with the group after `timeoutMs`. Throws `ConfigError` on `agent`
 * naming it when it times out, fails, or prints something that is not OCF meta-data XML.
 */
export function readMetadataSync(located: LocatedAgent, runtimeDir: string, timeoutMs = DEFAULT_METADATA_TIMEOUT_MS): OcfMetadata {
  // `detached` (a process group of its own) works with spawnSync too; @types/node omits it.
  const options: SpawnSyncOptionsWithStringEncoding & { detached: boolean } = {
    env: metadataEnv(located, runtimeDir),
    detached: true,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    maxBuffer: MAX_METADATA_BYTES,
    stdio: ['ignore', 'pipe', 'pipe'],
  };
  const r = spawnSync(located.path, ['meta-data'], options);
  if (r.error) {
    // Whatever it started in its group goes with it (spawnSync only kills the leader).
    if (r.pid) signalGroup(r.pid, 'SIGKILL');
    const code = (r.error as NodeJS.ErrnoException).code;
    const why = code === 'ETIMEDOUT' ? `did not print its meta-data within ${timeoutMs} ms (killed)` : `meta-data could not run: ${r.error.message}`;
    throw new ConfigError('agent', located.agent, `is not a usable OCF agent: ${located.path} ${why}`, { cause: r.error });
  }
  if (r.status !== 0) throw failed(located, r.status, r.signal, r.stderr ?? '');
  return parsed(located, r.stdout ?? '');
}

/** {@link readMetadataSync} without blocking: for the CLI and for warming a type's cache. */
export async function readMetadata(located: LocatedAgent, runtimeDir: string, timeoutMs = DEFAULT_METADATA_TIMEOUT_MS): Promise<OcfMetadata> {
  const signal = AbortSignal.timeout(timeoutMs);
  let result;
  try {
    result = await runAction({ path: located.path, action: 'meta-data', env: metadataEnv(located, runtimeDir), signal, log: silentLogger, keepStdout: MAX_METADATA_BYTES });
  } catch (error) {
    const why = signal.aborted ? `did not print its meta-data within ${timeoutMs} ms (killed)` : reasonOf(error);
    throw new ConfigError('agent', located.agent, `is not a usable OCF agent: ${located.path} ${why}`, { cause: error });
  }
  if (result.exitCode !== 0) throw failed(located, result.exitCode, result.signal, result.stderrTail.join('\n'));
  return parsed(located, result.stdout);
}

/** The agents installed under a root: `PROVIDER/NAME` of every executable file in `<root>/resource.d/*`, sorted. */
export function listAgents(root?: string): string[] {
  const dir = path.join(ocfRoot(root), 'resource.d');
  const out: string[] = [];
  let providers: string[];
  try {
    providers = readdirSync(dir).sort();
  } catch {
    return [];
  }
  for (const provider of providers) {
    let names: string[];
    try {
      names = readdirSync(path.join(dir, provider)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const file = path.join(dir, provider, name);
      try {
        if (!statSync(file).isFile()) continue;
        accessSync(file, constants.X_OK);
        out.push(`${provider}/${name}`);
      } catch {
        // not an agent
      }
    }
  }
  return out;
}
