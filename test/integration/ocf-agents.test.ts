// The built-in `ocf` type with real Pacemaker OCF agents (Debian's resource-agents package, see
// .ci/run) and with small script agents written by the tests: lifecycle, checks, exit codes,
// deadlines that kill the action's process group, terminate, bad agents, hosted.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfigError,
  createOcfType,
  isCallTimeoutError,
  isConfigError,
  isOcfError,
  type OcfError,
  type OcfResourceType,
  ResourceMonitor,
  type ResourceMonitorEvents,
  type ResourcePolicy,
} from 'resmon';
import { fixture, freePort, isGone, memoryLogger, until } from '../fixtures/servers/procs.js';
import { MINIMAL_METADATA, processesOf, scriptAgent, tempDir, unique } from '../fixtures/ocf/agents.js';

const tmp = tempDir();
const runtimeDir = path.join(tmp.dir, 'rsctmp');
const monitors: ResourceMonitor[] = [];
let ocf: OcfResourceType;

beforeAll(() => {
  ocf = createOcfType({ runtimeDir, metadataTimeout: 3_000 });
});
afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.close()));
});
afterAll(() => tmp.cleanup());

type Events = { [K in keyof ResourceMonitorEvents]: Parameters<ResourceMonitorEvents[K]>[0] & { event: K } }[keyof ResourceMonitorEvents];

/** A monitor with the ocf type, recording events and log lines, and one resource. */
function setup(name: string, properties: Record<string, unknown>, policy: Partial<ResourcePolicy> = {}, type: OcfResourceType = ocf) {
  const log = memoryLogger();
  const monitor = new ResourceMonitor({ logger: log.logger, defaults: { restartDelay: 50 } });
  monitors.push(monitor);
  monitor.registerType(type);
  const events: Events[] = [];
  for (const event of ['stateChange', 'check', 'restartScheduled', 'callTimeout'] as const) {
    monitor.on(event, (payload: object) => void events.push({ event, ...payload } as Events));
  }
  monitor.addResource({ name, type: 'ocf', properties, policy });
  return { monitor, events, log };
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

describe('heartbeat/Dummy', () => {
  it('starts, passes both checks, and stops', async () => {
    const name = unique('dummy');
    const state = path.join(tmp.dir, `${name}.state`);
    const { monitor, events } = setup(name, { agent: 'heartbeat/Dummy', params: { state } }, { looksAlivePollInterval: 100, isAlivePollInterval: 250 });
    await monitor.online(name);
    expect(existsSync(state)).toBe(true);
    await until(() => ['looksAlive', 'isAlive'].every((k) => events.some((e) => e.event === 'check' && e.kind === k && e.ok)), 'both checks to pass');
    await monitor.offline(name);
    expect(existsSync(state)).toBe(false);
    expect(events.filter((e) => e.event === 'check' && !e.ok)).toEqual([]);
  });

  it('applies a change of a non-unique parameter while online with reload; a unique one waits for the next start', async () => {
    const name = unique('dummy');
    const state = path.join(tmp.dir, `${name}.state`);
    const { monitor, log } = setup(name, { agent: 'heartbeat/Dummy', params: { state } });
    await monitor.online(name);
    expect(await monitor.setProperties(name, { agent: 'heartbeat/Dummy', params: { state, fake: 'changed' } })).toBe('applied');
    expect(log.lines.some((l) => l.fields.action === 'reload' && l.fields.entryPoint === 'applyProperties')).toBe(true);
    const moved = path.join(tmp.dir, `${name}.moved`);
    expect(await monitor.setProperties(name, { agent: 'heartbeat/Dummy', params: { state: moved, fake: 'changed' } })).toBe('stored');
    await monitor.offline(name);
    await monitor.online(name);
    expect(existsSync(moved)).toBe(true);
    await monitor.offline(name);
  });

  it('answers its control codes: the resource\'s meta-data, the installed agents, an agent\'s meta-data', async () => {
    const name = unique('dummy');
    const { monitor } = setup(name, { agent: 'heartbeat/Dummy', params: { state: path.join(tmp.dir, `${name}.state`) } });
    expect(((await monitor.control(name, 'ocf-metadata')) as { name: string }).name).toBe('Dummy');
    expect((await monitor.controlType('ocf', 'ocf-list-agents')) as string[]).toContain('heartbeat/anything');
    expect(((await monitor.controlType('ocf', 'ocf-metadata', { agent: 'heartbeat/Delay' })) as { shortdesc: string }).shortdesc).toBe('Waits for a defined timespan');
    await expect(monitor.controlType('ocf', 'ocf-metadata', { agent: 'heartbeat/Nope' })).rejects.toThrow(/heartbeat\/Nope does not exist/);
    await expect(monitor.control(name, 'no-such-code')).rejects.toThrow(/no-such-code/);
  });

  it('takes its advertised timeouts and monitor interval as the type-level defaults', () => {
    const config = ocf.validate!({ agent: 'heartbeat/Dummy' });
    expect(ocf.defaultsFor!(config)).toEqual({ pendingTimeout: 20_000, deadlockTimeout: 20_000, isAlivePollInterval: 10_000, looksAlivePollInterval: 0 });
    expect(config.checkLevel).toBe(0);
  });

  it('fails on NOT_RUNNING once its state file is removed, and is restarted', async () => {
    const name = unique('dummy');
    const state = path.join(tmp.dir, `${name}.state`);
    const { monitor, events } = setup(name, { agent: 'heartbeat/Dummy', params: { state } }, { isAlivePollInterval: 200 });
    await monitor.online(name);
    rmSync(state);
    await until(() => events.some((e) => e.event === 'stateChange' && e.to === 'failed'), 'the failure');
    const failure = events.find((e) => e.event === 'stateChange' && e.to === 'failed');
    expect(failure?.event === 'stateChange' && failure.reason).toMatch(/isAlive threw: heartbeat\/Dummy monitor: OCF_NOT_RUNNING \(7\)/);
    await until(() => events.filter((e) => e.event === 'stateChange' && e.to === 'online').length === 2, 'the restart to bring it online');
    expect(monitor.inspect(name).restarts.total).toBe(1);
    expect(existsSync(state)).toBe(true);
  });

  it('passes the parameters and the OCF environment to the agent, as Pacemaker does', async () => {
    const dir = tempDir();
    try {
      const dump = path.join(dir.dir, 'env');
      const agent = scriptAgent(
        dir.dir,
        'envdump',
        `case "$1" in meta-data) cat <<'XML'\n${MINIMAL_METADATA}\nXML\n;; start) env > ${dump} ;; esac\nexit 0`,
      );
      const name = unique('env');
      const { monitor } = setup(name, { agent, params: { mode: 'fast' } });
      await monitor.online(name);
      const env = Object.fromEntries(
        readFileSync(dump, 'utf8')
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(env).toMatchObject({
        OCF_ROOT: '/usr/lib/ocf',
        OCF_RESOURCE_INSTANCE: name,
        OCF_RESOURCE_TYPE: 'envdump',
        OCF_RESKEY_mode: 'fast',
        OCF_RESKEY_CRM_meta_timeout: '5000',
        HA_RSCTMP: runtimeDir,
      });
      expect(env.OCF_RESOURCE_PROVIDER).toBeUndefined();
    } finally {
      dir.cleanup();
    }
  });
});

describe('heartbeat/Delay', () => {
  it('stays online-pending while a slow start runs, then comes online', async () => {
    const name = unique('delay');
    const { monitor, events } = setup(name, { agent: 'heartbeat/Delay', params: { startdelay: 2, stopdelay: 0, mondelay: 0 } });
    const online = monitor.online(name);
    await monitor.waitFor(name, 'online-pending');
    await until(() => processesOf(name).length > 0, 'the start action to run');
    expect(monitor.getState(name)).toBe('online-pending');
    await online;
    expect(events.filter((e) => e.event === 'stateChange').map((e) => e.event === 'stateChange' && e.to)).toEqual(['online-pending', 'online']);
    await monitor.offline(name);
  });

  it('fails when start outlasts pendingTimeout, and kills the action with its process group', async () => {
    const name = unique('delay');
    const { monitor, events } = setup(
      name,
      { agent: 'heartbeat/Delay', params: { startdelay: 60, stopdelay: 0, mondelay: 0 } },
      { pendingTimeout: 1_000, restartAction: 'none' },
    );
    const error = await monitor.online(name).catch((e: unknown) => e);
    expect(isCallTimeoutError(error)).toBe(true);
    expect(monitor.getState(name)).toBe('failed');
    expect(events.some((e) => e.event === 'callTimeout' && e.entryPoint === 'online')).toBe(true);
    // The agent (a shell) and its `sleep 60` are gone, long before the sleep would have ended.
    await until(() => processesOf(name).length === 0, 'the start action and its children to be killed', 3_000);
  });
});

describe('exit codes and reasons (script agents)', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  /** An agent whose start exits `code` after printing an exit reason; monitor says running once started. */
  const agentExiting = (code: number, validateCode = 0) =>
    scriptAgent(
      dir.dir,
      `exit${code}-${validateCode}`,
      [
        'case "$1" in',
        `meta-data) cat <<'XML'\n${MINIMAL_METADATA.replace('</actions>', '<action name="validate-all" timeout="5s"/></actions>')}\nXML\nexit 0;;`,
        `validate-all) [ ${validateCode} = 0 ] || echo "ocf-exit-reason:invalid setup" >&2; exit ${validateCode};;`,
        `start) echo "ocf-exit-reason:port 80 in use" >&2; exit ${code};;`,
        'monitor) exit 7;;',
        'stop) exit 0;;',
        'esac',
      ].join('\n'),
    );

  it('OCF_ERR_CONFIGURED (6) from start rejects with an OcfError carrying the reason, and is not restarted', async () => {
    const name = unique('six');
    const { monitor, events } = setup(name, { agent: agentExiting(6) });
    const error = (await monitor.online(name).catch((e: unknown) => e)) as OcfError;
    expect(isOcfError(error)).toBe(true);
    expect([error.exitCode, error.ocfName, error.exitReason, error.action, error.permanent]).toEqual([6, 'OCF_ERR_CONFIGURED', 'port 80 in use', 'start', true]);
    expect(error.message).toMatch(/start: OCF_ERR_CONFIGURED \(6\): port 80 in use/);
    await until(() => monitor.getState(name) === 'failed', 'failed');
    await new Promise((resolve) => setTimeout(resolve, 300)); // longer than restartDelay: nothing may be scheduled
    expect(events.filter((e) => e.event === 'restartScheduled')).toEqual([]);
  });

  it('OCF_ERR_GENERIC (1) from start is restarted by policy', async () => {
    const name = unique('one');
    const { monitor, events } = setup(name, { agent: agentExiting(1) }, { restartThreshold: 1 });
    const error = (await monitor.online(name).catch((e: unknown) => e)) as OcfError;
    expect([error.exitCode, error.ocfName, error.permanent]).toEqual([1, 'OCF_ERR_GENERIC', false]);
    await until(() => events.some((e) => e.event === 'restartScheduled'), 'a restart to be scheduled');
  });

  it('runs validate-all at open: OCF_ERR_INSTALLED (5) there fails the first online, not restarted', async () => {
    const name = unique('five');
    const { monitor, events } = setup(name, { agent: agentExiting(0, 5) });
    const error = (await monitor.online(name).catch((e: unknown) => e)) as OcfError;
    expect([error.action, error.exitCode, error.ocfName, error.exitReason]).toEqual(['validate-all', 5, 'OCF_ERR_INSTALLED', 'invalid setup']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.filter((e) => e.event === 'restartScheduled')).toEqual([]);
  });

  it('terminate kills the running start with its group, then runs stop', async () => {
    const marker = path.join(dir.dir, 'stopped');
    const agent = scriptAgent(
      dir.dir,
      'slowstart',
      `case "$1" in meta-data) cat <<'XML'\n${MINIMAL_METADATA}\nXML\n;; start) sleep 60 & wait ;; stop) echo stopped > ${marker} ;; monitor) exit 7 ;; esac\nexit 0`,
    );
    const name = unique('slow');
    const { monitor } = setup(name, { agent });
    const online = monitor.online(name).catch((e: unknown) => e);
    await until(() => processesOf(name).length >= 2, 'start and its sleep to run');
    const pids = processesOf(name);
    await monitor.terminate(name);
    expect(monitor.getState(name)).toBe('offline');
    expect(readFileSync(marker, 'utf8').trim()).toBe('stopped');
    await until(() => pids.every(isGone), 'the start action and its sleep to be killed', 2_000);
    await online;
  });

  it('when stop fails in terminate, what the last start left in its process group is killed', async () => {
    const pidfile = path.join(dir.dir, 'left.pid');
    const agent = scriptAgent(
      dir.dir,
      'leaves',
      `case "$1" in meta-data) cat <<'XML'\n${MINIMAL_METADATA}\nXML\n;; start) sleep 60 >/dev/null 2>&1 & echo $! > ${pidfile} ;; stop) echo "ocf-exit-reason:cannot stop" >&2; exit 1 ;; esac\nexit 0`,
    );
    const name = unique('leaves');
    const { monitor, log } = setup(name, { agent });
    await monitor.online(name);
    const left = Number(readFileSync(pidfile, 'utf8'));
    expect(isGone(left)).toBe(false);
    await monitor.terminate(name);
    await until(() => isGone(left), 'the background process of start to be killed', 2_000);
    expect(log.lines.some((l) => l.level === 'error' && /terminate failed: .*stop: OCF_ERR_GENERIC \(1\): cannot stop/.test(l.msg))).toBe(true);
  });

  it('runs looksAlive at check level 0 and isAlive at the deepest advertised level, with the monitor interval', async () => {
    const seen = path.join(dir.dir, 'levels.seen');
    const metadata = MINIMAL_METADATA.replace(
      '<action name="monitor" timeout="5s" interval="1s" depth="0"/>',
      '<action name="monitor" timeout="5s" interval="1s" depth="0"/><action name="monitor" timeout="9s" interval="3s" depth="10"/><action name="monitor" timeout="9s" interval="7s" depth="30"/>',
    );
    const agent = scriptAgent(
      dir.dir,
      'levels',
      `case "$1" in meta-data) cat <<'XML'\n${metadata}\nXML\n;; monitor) echo "$OCF_CHECK_LEVEL $OCF_RESKEY_CRM_meta_interval $OCF_RESKEY_CRM_meta_timeout" >> ${seen} ;; esac\nexit 0`,
    );
    expect(ocf.defaultsFor!(ocf.validate!({ agent }))).toEqual({ pendingTimeout: 5_000, deadlockTimeout: 9_000, looksAlivePollInterval: 1_000, isAlivePollInterval: 3_000 });
    const name = unique('levels');
    const { monitor, events } = setup(name, { agent }, { looksAlivePollInterval: 100, isAlivePollInterval: 250 });
    await monitor.online(name);
    await until(() => ['looksAlive', 'isAlive'].every((k) => events.some((e) => e.event === 'check' && e.kind === k && e.ok)), 'both checks');
    await monitor.offline(name);
    const lines = new Set(readFileSync(seen, 'utf8').trim().split('\n'));
    expect([...lines].sort()).toEqual(['0 1000 5000', '10 3000 9000']);
  });

  it('logs what the agent prints, tagged with the action and stream', async () => {
    const agent = scriptAgent(
      dir.dir,
      'chatty',
      `case "$1" in meta-data) cat <<'XML'\n${MINIMAL_METADATA}\nXML\n;; start) echo "hello from start"; echo "WARNING: careful" >&2 ;; esac\nexit 0`,
    );
    const name = unique('chatty');
    const { monitor, log } = setup(name, { agent });
    await monitor.online(name);
    expect(log.lines.filter((l) => l.fields.action === 'start').map((l) => [l.level, l.fields.stream, l.fields.entryPoint, l.msg])).toEqual([
      ['info', 'stdout', 'online', 'hello from start'],
      ['warn', 'stderr', 'online', 'WARNING: careful'],
    ]);
  });
});

describe('heartbeat/anything supervising a real daemon', () => {
  it('restarts the daemon when it is killed (a new pid), and stops it when taken offline', async () => {
    const dir = tempDir();
    try {
      const port = await freePort();
      const daemon = scriptAgent(dir.dir, 'web.sh', `PORT=${port} exec ${process.execPath} ${fixture('http-server.mjs')}`);
      const pidfile = path.join(dir.dir, 'web.pid');
      const name = unique('web');
      const { monitor, events } = setup(
        name,
        { agent: 'heartbeat/anything', params: { binfile: daemon, pidfile, logfile: path.join(dir.dir, 'web.log') } },
        { isAlivePollInterval: 200 },
      );
      const pidOf = () => Number(readFileSync(pidfile, 'utf8').trim());
      const healthy = async () => (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.text()).catch(() => 'down')) === 'ok';
      await monitor.online(name);
      const first = pidOf();
      for (let i = 0; i < 100 && !(await healthy()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await healthy()).toBe(true);
      process.kill(first, 'SIGKILL');
      await until(() => events.some((e) => e.event === 'stateChange' && e.to === 'failed'), 'the kill to be detected');
      await until(() => events.filter((e) => e.event === 'stateChange' && e.to === 'online').length === 2, 'the restart');
      const second = pidOf();
      expect(second).not.toBe(first);
      expect(isGone(second)).toBe(false);
      for (let i = 0; i < 100 && !(await healthy()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await healthy()).toBe(true);
      await monitor.offline(name);
      await until(() => isGone(second), 'the daemon to be stopped');
      expect(await healthy()).toBe(false);
    } finally {
      dir.cleanup();
    }
  });
});

describe('bad agents are a ConfigError naming the agent, in bounded time', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const rejection = (properties: Record<string, unknown>, type = ocf, field = 'agent') => {
    const monitor = new ResourceMonitor();
    monitors.push(monitor);
    monitor.registerType(type);
    const started = Date.now();
    const error = caught(() => monitor.addResource({ name: unique('bad'), type: 'ocf', properties })) as ConfigError;
    expect(isConfigError(error)).toBe(true);
    expect(isConfigError(error.cause) && (error.cause as ConfigError).field).toBe(field);
    return { message: error.message, ms: Date.now() - started };
  };

  it('an agent that does not exist', () => {
    expect(rejection({ agent: 'heartbeat/NoSuchAgent' }).message).toMatch(/agent names no agent: \/usr\/lib\/ocf\/resource.d\/heartbeat\/NoSuchAgent does not exist.*"heartbeat\/NoSuchAgent"/);
  });

  it('an agent that is not executable', () => {
    const agent = scriptAgent(dir.dir, 'noexec', 'exit 0', false);
    expect(rejection({ agent }).message).toMatch(/not executable/);
    expect(rejection({ agent }).message).toContain(agent);
  });

  it('meta-data that is not XML', () => {
    const agent = scriptAgent(dir.dir, 'notxml', 'echo "usage: notxml {start|stop}"; exit 0');
    expect(rejection({ agent }).message).toMatch(/is not a usable OCF agent: meta-data is not well-formed XML/);
  });

  it('an agent whose meta-data fails', () => {
    const agent = scriptAgent(dir.dir, 'failing', 'echo "cannot find ocf-shellfuncs" >&2; exit 5');
    expect(rejection({ agent }).message).toMatch(/meta-data exited with code 5: cannot find ocf-shellfuncs/);
  });

  it('an agent that hangs on meta-data is killed, with what it started, after metadataTimeout', async () => {
    const pidfile = path.join(dir.dir, 'hang.pid');
    const agent = scriptAgent(dir.dir, 'hangs', `sleep 60 & echo $! > ${pidfile}; wait`);
    const { message, ms } = rejection({ agent }, createOcfType({ runtimeDir, metadataTimeout: 500 }));
    expect(message).toMatch(/did not print its meta-data within 500 ms \(killed\)/);
    expect(ms).toBeLessThan(2_500);
    const sleeper = Number(readFileSync(pidfile, 'utf8'));
    await until(() => isGone(sleeper), 'the sleep it started to be killed', 2_000);
  });

  it('unknown and missing parameters, naming them', () => {
    expect(rejection({ agent: 'heartbeat/Dummy', params: { stat: '/tmp/x' } }, ocf, 'params.stat').message).toMatch(/params.stat is not a parameter of agent heartbeat\/Dummy \(known: state, fake/);
    const error = caught(() => {
      const monitor = new ResourceMonitor();
      monitors.push(monitor);
      monitor.registerType(ocf);
      monitor.addResource({ name: 'a', type: 'ocf', properties: { agent: 'heartbeat/anything' } });
    }) as ConfigError;
    expect((error.cause as ConfigError).field).toBe('params.binfile');
    expect(error.message).toMatch(/params.binfile is required by agent heartbeat\/anything/);
  });

  it('a relative root, or an agent that is neither PROVIDER/NAME nor an absolute path', () => {
    expect(rejection({ agent: 'heartbeat/Dummy', root: 'usr/lib/ocf' }, ocf, 'root').message).toMatch(/root must be an absolute path/);
    expect(rejection({ agent: './agents/Dummy' }).message).toMatch(/agent must be PROVIDER\/NAME \(heartbeat\/Dummy\) or an absolute path/);
    expect(rejection({ agent: 'heartbeat/../../bin/sh' }).message).toMatch(/agent must be PROVIDER\/NAME/);
  });

  it('reads meta-data once per agent', () => {
    const counter = path.join(dir.dir, 'count');
    writeFileSync(counter, '');
    const agent = scriptAgent(dir.dir, 'counted', `echo x >> ${counter}\ncat <<'XML'\n${MINIMAL_METADATA}\nXML`);
    const type = createOcfType({ runtimeDir });
    type.validate!({ agent });
    type.validate!({ agent, params: { mode: 'a' } });
    type.metadata(agent);
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('preload reads meta-data without blocking, for validate to find; a hanging agent rejects in bounded time', async () => {
    const counter = path.join(dir.dir, 'count2');
    writeFileSync(counter, '');
    const agent = scriptAgent(dir.dir, 'preloaded', `echo x >> ${counter}\ncat <<'XML'\n${MINIMAL_METADATA}\nXML`);
    const type = createOcfType({ runtimeDir, metadataTimeout: 500 });
    expect((await type.preload(agent)).shortdesc).toBe('test agent');
    type.validate!({ agent });
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
    const hangs = scriptAgent(dir.dir, 'hangs2', 'sleep 60');
    const started = Date.now();
    const error = (await type.preload(hangs).catch((e: unknown) => e)) as ConfigError;
    expect([isConfigError(error), error.field]).toEqual([true, 'agent']);
    expect(error.message).toMatch(/did not print its meta-data within 500 ms \(killed\)/);
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});

describe('hosted in a child process', () => {
  it('runs heartbeat/Dummy from a process host', async () => {
    const monitor = new ResourceMonitor({ defaults: { restartDelay: 50 } });
    monitors.push(monitor);
    await monitor.registerType({ module: fixture('../../../src/index.ts'), exportName: 'ocfType', isolation: 'process' });
    const name = unique('hosted');
    const state = path.join(tmp.dir, `${name}.state`);
    monitor.addResource({ name, type: 'ocf', properties: { agent: 'heartbeat/Dummy', params: { state } }, policy: { isAlivePollInterval: 200 } });
    await monitor.online(name);
    expect(monitor.inspect(name).host).toMatch(/^process-/);
    expect(existsSync(state)).toBe(true);
    rmSync(state);
    await until(() => monitor.inspect(name).restarts.total === 1 && monitor.getState(name) === 'online', 'the NOT_RUNNING failure and the restart');
    await monitor.offline(name);
    expect(existsSync(state)).toBe(false);
  });

  it('an agent answering OCF_ERR_CONFIGURED (6) in a process host is an OcfError there too, and is not restarted', async () => {
    const dir = tempDir();
    try {
      const agent = scriptAgent(dir.dir, 'six', `case "$1" in meta-data) cat <<'XML'\n${MINIMAL_METADATA}\nXML\n;; start) echo "ocf-exit-reason:no config" >&2; exit 6 ;; esac\nexit 0`);
      const monitor = new ResourceMonitor({ defaults: { restartDelay: 50 } });
      monitors.push(monitor);
      const restarts: unknown[] = [];
      monitor.on('restartScheduled', (e) => restarts.push(e));
      await monitor.registerType({ module: fixture('../../../src/index.ts'), exportName: 'ocfType', isolation: 'process' });
      monitor.addResource({ name: unique('hosted-six'), type: 'ocf', properties: { agent } });
      const name = monitor.snapshot()[0]!.name;
      const error = (await monitor.online(name).catch((e: unknown) => e)) as OcfError;
      expect(isOcfError(error)).toBe(true);
      expect([error.exitCode, error.ocfName, error.exitReason, error.permanent]).toEqual([6, 'OCF_ERR_CONFIGURED', 'no config', true]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(restarts).toEqual([]);
    } finally {
      dir.cleanup();
    }
  });
});
