// The OCF type's pure logic: meta-data parsing, durations, derived policy, parameter checks,
// the environment and the exit-code mapping. No agent runs here (test/integration/ocf-*.test.ts
// runs real ones).
import { describe, expect, it } from 'vitest';
import { isOcfError, isPermanentFailure, OcfError } from 'resmon';
import { verdictOf, exitReasonOf, ocfName } from '../src/builtins/ocf/codes.js';
import { ocfEnvironment } from '../src/builtins/ocf/environment.js';
import { deepestCheckLevel, parseDuration, parseMetadata, policyFromMetadata } from '../src/builtins/ocf/metadata.js';
import { checkParams } from '../src/builtins/ocf/params.js';
import { levelOf } from '../src/builtins/ocf/action.js';
import { decodeError, encodeError } from '../src/hosts/protocol.js';
import { reloadAction } from '../src/builtins/ocf/type.js';
import type { OcfConfig } from 'resmon';
import { configError } from './helpers/errors.js';

const DUMMY = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Dummy" version="1.0">
<version>1.0</version>
<longdesc lang="en">This is a Dummy Resource Agent.</longdesc>
<shortdesc lang="en">Example stateless resource agent</shortdesc>
<parameters>
<parameter name="state" unique="1">
<longdesc lang="en">Location to store the resource state in.</longdesc>
<shortdesc lang="en">State file</shortdesc>
<content type="string" default="/run/resource-agents/Dummy-RESOURCE_ID.state" />
</parameter>
<parameter name="fake" unique="0">
<longdesc lang="en">Fake attribute</longdesc>
<shortdesc lang="en">Fake attribute</shortdesc>
<content type="string" default="dummy" />
</parameter>
</parameters>
<actions>
<action name="start"        timeout="20s" />
<action name="stop"         timeout="30s" />
<action name="monitor"      timeout="20s" interval="10s" depth="0" />
<action name="meta-data"    timeout="5s" />
<action name="validate-all"   timeout="25s" />
</actions>
</resource-agent>`;

/** Meta-data of an agent with typed parameters and two check levels. */
const TYPED = `<?xml version="1.0"?>
<resource-agent name="Typed">
<shortdesc lang="de">Getippt</shortdesc><shortdesc lang="en">Typed parameters</shortdesc>
<parameters>
<parameter name="port" required="1"><shortdesc lang="en">Port</shortdesc><content type="integer"/></parameter>
<parameter name="host" required="1"><shortdesc lang="en">Host</shortdesc><content type="string"/></parameter>
<parameter name="debug"><content type="boolean" default="false"/></parameter>
<parameter name="mode"><content type="select" default="a"><option value="a"/><option value="b"/></content></parameter>
</parameters>
<actions>
<action name="start" timeout="2min"/><action name="stop" timeout="90"/>
<action name="monitor" timeout="15s" interval="5s" depth="0"/>
<action name="monitor" timeout="60s" interval="1m" depth="10"/>
<action name="monitor" timeout="120s" interval="1h" depth="30"/>
<action name="monitor" role="Promoted" timeout="300s" interval="3s" depth="0"/>
</actions>
</resource-agent>`;


describe('OCF meta-data', () => {
  it('reads the parameters, their types and defaults, and the actions', () => {
    const meta = parseMetadata(DUMMY);
    expect(meta.name).toBe('Dummy');
    expect(meta.shortdesc).toBe('Example stateless resource agent');
    expect(meta.parameters.map((p) => [p.name, p.type, p.required, p.default])).toEqual([
      ['state', 'string', false, '/run/resource-agents/Dummy-RESOURCE_ID.state'],
      ['fake', 'string', false, 'dummy'],
    ]);
    expect(meta.actions.find((a) => a.name === 'monitor')).toEqual({ name: 'monitor', timeoutMs: 20_000, intervalMs: 10_000, depth: 0, role: null });
  });

  it('picks the English description, required flags and select options', () => {
    const meta = parseMetadata(TYPED);
    expect(meta.shortdesc).toBe('Typed parameters');
    expect(meta.parameters.filter((p) => p.required).map((p) => p.name)).toEqual(['port', 'host']);
    expect(meta.parameters.find((p) => p.name === 'mode')?.options).toEqual(['a', 'b']);
  });

  it('rejects text that is not XML, naming the rule broken and the line', () => {
    expect(() => parseMetadata('usage: Dummy {start|stop}')).toThrow(/not well-formed XML/);
    expect(() => parseMetadata('<resource-agent><parameters></resource-agent>')).toThrow(/not well-formed XML.*line/);
    expect(() => parseMetadata('')).toThrow(/printed nothing/);
  });

  it('rejects XML whose root is not <resource-agent>', () => {
    expect(() => parseMetadata('<?xml version="1.0"?><html><body/></html>')).toThrow(/root element is not <resource-agent> \(found html\)/);
  });

  it('reads durations as Pacemaker does: no unit is seconds', () => {
    expect([parseDuration('20'), parseDuration('20s'), parseDuration('90sec'), parseDuration('2m'), parseDuration('2min')]).toEqual([
      20_000, 20_000, 90_000, 120_000, 120_000,
    ]);
    expect([parseDuration('1h'), parseDuration('500ms'), parseDuration('1.5s'), parseDuration('soon'), parseDuration(undefined)]).toEqual([
      3_600_000, 500, 1_500, null, null,
    ]);
  });

  it('turns advertised timeouts and one monitor level into defaults: looksAlive off, isAlive at the monitor interval', () => {
    expect(policyFromMetadata(parseMetadata(DUMMY))).toEqual({
      pendingTimeout: 30_000, // the longer of start 20 s and stop 30 s
      deadlockTimeout: 30_000, // the longest of monitor 20 s, validate-all 25 s, stop 30 s
      isAlivePollInterval: 10_000,
      looksAlivePollInterval: 0,
    });
    expect(deepestCheckLevel(parseMetadata(DUMMY))).toBe(0);
  });

  it('runs isAlive at the deepest level up to 20 and looksAlive at level 0, ignoring promoted-role monitors', () => {
    const meta = parseMetadata(TYPED);
    expect(deepestCheckLevel(meta)).toBe(10);
    expect(policyFromMetadata(meta)).toEqual({
      pendingTimeout: 120_000,
      deadlockTimeout: 90_000, // stop 90 s beats monitors 15/60 s; depth 30 and the Promoted monitor do not count
      isAlivePollInterval: 60_000,
      looksAlivePollInterval: 5_000,
    });
  });

  it('suggests nothing for what an agent does not advertise', () => {
    expect(policyFromMetadata(parseMetadata('<resource-agent name="bare"><actions><action name="start"/></actions></resource-agent>'))).toEqual({});
  });
});

describe('OCF parameters', () => {
  const typed = parseMetadata(TYPED);

  it('passes known parameters on as text', () => {
    expect(checkParams({ port: 80, host: 'h', debug: true, mode: 'b' }, typed, 'x/Typed')).toEqual({ port: '80', host: 'h', debug: 'true', mode: 'b' });
    expect(checkParams({ port: '8080', host: 'h', debug: 'yes' }, typed, 'x/Typed')).toEqual({ port: '8080', host: 'h', debug: 'yes' });
  });

  it('rejects an unknown parameter, naming it and listing the known ones', () => {
    const e = configError(() => checkParams({ port: 1, host: 'h', prot: 2 }, typed, 'x/Typed'));
    expect(e.field).toBe('params.prot');
    expect(e.message).toMatch(/is not a parameter of agent x\/Typed \(known: port, host, debug, mode/);
  });

  it('rejects a missing required parameter, naming it and the others missing', () => {
    const e = configError(() => checkParams({}, typed, 'x/Typed'));
    expect(e.field).toBe('params.port');
    expect(e.message).toMatch(/is required by agent x\/Typed \(so are host\): Port/);
  });

  it('checks integers, booleans and select options', () => {
    expect(configError(() => checkParams({ port: 1.5, host: 'h' }, typed, 'x/Typed')).message).toMatch(/params.port must be an integer/);
    expect(configError(() => checkParams({ port: 'eighty', host: 'h' }, typed, 'x/Typed')).field).toBe('params.port');
    expect(configError(() => checkParams({ port: 1, host: 'h', debug: 'maybe' }, typed, 'x/Typed')).message).toMatch(/params.debug must be a boolean/);
    expect(configError(() => checkParams({ port: 1, host: 'h', mode: 'c' }, typed, 'x/Typed')).message).toMatch(/params.mode must be one of a, b/);
    expect(configError(() => checkParams({ port: 1, host: { x: 1 } }, typed, 'x/Typed')).message).toMatch(/params.host must be a string/);
    expect(configError(() => checkParams([], typed, 'x/Typed')).field).toBe('params');
  });
});

describe('OCF environment', () => {
  it('sets the variables Pacemaker sets and drops the embedder\'s own OCF ones', () => {
    const env = ocfEnvironment(
      { root: '/usr/lib/ocf', type: 'Dummy', provider: 'heartbeat', instance: 'web', params: { state: '/tmp/s' }, timeoutMs: 20_000, intervalMs: 10_000, checkLevel: 10, runtimeDir: '/run/x' },
      { PATH: '/bin', OCF_RESKEY_leak: 'no', OCF_CHECK_LEVEL: '99', HOME: '/root' },
    );
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/root',
      OCF_ROOT: '/usr/lib/ocf',
      OCF_RA_VERSION_MAJOR: '1',
      OCF_RA_VERSION_MINOR: '1',
      OCF_RESOURCE_TYPE: 'Dummy',
      OCF_RESOURCE_PROVIDER: 'heartbeat',
      OCF_RESOURCE_INSTANCE: 'web',
      OCF_RESKEY_state: '/tmp/s',
      OCF_RESKEY_CRM_meta_timeout: '20000',
      OCF_RESKEY_CRM_meta_interval: '10000',
      OCF_CHECK_LEVEL: '10',
      OCF_EXIT_REASON_PREFIX: 'ocf-exit-reason:',
      HA_RSCTMP: '/run/x',
    });
  });
});

describe('OCF exit codes', () => {
  const exit = (exitCode: number | null, exitReason: string | null = null) => ({ exitCode, signal: exitCode === null ? 'SIGSEGV' : null, exitReason, stderrTail: ['oops'] });

  it('0 is success for every action', () => {
    for (const action of ['start', 'stop', 'monitor', 'validate-all']) expect(verdictOf('h/D', action, exit(0)).kind).toBe('ok');
  });

  it('7 from monitor is a failed check whose reason is the exit reason', () => {
    expect(verdictOf('h/D', 'monitor', exit(7, 'state file gone'))).toEqual({ kind: 'not-running', reason: 'h/D monitor: OCF_NOT_RUNNING (7): state file gone' });
  });

  it('1-6 and 8-9 are an OcfError with the code, its OCF name and the exit reason', () => {
    const names = ['OCF_ERR_GENERIC', 'OCF_ERR_ARGS', 'OCF_ERR_UNIMPLEMENTED', 'OCF_ERR_PERM', 'OCF_ERR_INSTALLED', 'OCF_ERR_CONFIGURED'];
    for (const [i, name] of names.entries()) {
      const v = verdictOf('h/D', 'start', exit(i + 1, 'why'));
      if (v.kind !== 'error') throw new Error('expected an error');
      expect(isOcfError(v.error)).toBe(true);
      expect([v.error.exitCode, v.error.ocfName, v.error.exitReason, v.error.action, v.error.agent]).toEqual([i + 1, name, 'why', 'start', 'h/D']);
      expect(v.error.message).toBe(`h/D start: ${name} (${i + 1}): why`);
      expect(v.error.code).toBe('ERR_RESMON_OCF');
    }
    for (const code of [8, 9]) expect(verdictOf('h/D', 'monitor', exit(code)).kind).toBe('error');
    expect(verdictOf('h/D', 'start', exit(7)).kind).toBe('error');
  });

  it('5 and 6 are permanent failures (not restarted, like a ConfigError); the others are not', () => {
    const error = (code: number) => (verdictOf('h/D', 'start', exit(code)) as { error: OcfError }).error;
    expect([1, 2, 3, 4, 5, 6, 8, 9].map((c) => isPermanentFailure(error(c)))).toEqual([false, false, false, false, true, true, false, false]);
  });

  it('an undefined code or a signal is an OcfError named OCF_UNKNOWN, quoting stderr when there is no exit reason', () => {
    const v = verdictOf('h/D', 'stop', exit(null));
    expect(v.kind === 'error' && [v.error.ocfName, v.error.message]).toEqual(['OCF_UNKNOWN', 'h/D stop: killed by SIGSEGV: last stderr: oops']);
    expect(ocfName(42)).toBe('OCF_UNKNOWN');
  });

  it('validate-all answering 3 (unimplemented) and monitor answering 190 (degraded) count as success', () => {
    expect(verdictOf('h/D', 'validate-all', exit(3)).kind).toBe('ok');
    expect(verdictOf('h/D', 'monitor', exit(190)).kind).toBe('ok');
  });

  it('reads ocf_exit_reason lines and log levels from the agent output', () => {
    expect(exitReasonOf('ocf-exit-reason:No such file')).toBe('No such file');
    expect(exitReasonOf('INFO: fine')).toBeNull();
    expect([levelOf('Dummy(d)[1]: ERROR: bad'), levelOf('WARNING: hm'), levelOf('DEBUG: x'), levelOf('hello')]).toEqual(['error', 'warn', 'debug', 'info']);
  });

  it('an OcfError crosses the isolation-host boundary with its guard, details and permanence', () => {
    const v = verdictOf('h/D', 'start', exit(6, 'bad port'));
    const back = decodeError(encodeError((v as { error: OcfError }).error) as never) as OcfError;
    expect(isOcfError(back)).toBe(true);
    expect([back.exitCode, back.ocfName, back.exitReason, back.action, back.agent, back.permanent]).toEqual([6, 'OCF_ERR_CONFIGURED', 'bad port', 'start', 'h/D', true]);
    expect(isPermanentFailure(back)).toBe(true);
  });
});

describe('OCF reload (setProperties while online)', () => {
  const RELOADING = `<resource-agent name="R"><parameters>
<parameter name="fast" reloadable="1"><content type="string"/></parameter>
<parameter name="plain"><content type="string"/></parameter>
<parameter name="id" unique="1"><content type="string"/></parameter>
</parameters><actions><action name="start"/><action name="reload-agent"/><action name="reload"/></actions></resource-agent>`;
  const config = (params: Record<string, string>, xml = RELOADING, path = '/a/R'): OcfConfig =>
    ({ agent: 'x/R', path, root: '/usr/lib/ocf', provider: 'x', agentType: 'R', params, metadata: parseMetadata(xml), checkLevel: 0, defaults: {}, runtimeDir: '/tmp' }) as OcfConfig;

  it('uses reload-agent when every changed parameter is reloadable', () => {
    expect(reloadAction(config({ fast: '2' }), config({ fast: '1' }))).toBe('reload-agent');
  });

  it('uses reload when the changed parameters are not unique, and nothing when none changed', () => {
    expect(reloadAction(config({ fast: '2', plain: 'b' }), config({ fast: '1', plain: 'a' }))).toBe('reload');
    expect(reloadAction(config({ plain: 'a' }), config({ plain: 'a' }))).toBe('');
  });

  it('stores the change for the next start when a unique parameter, the agent or the root changes', () => {
    expect(reloadAction(config({ id: '2' }), config({ id: '1' }))).toBeNull();
    expect(reloadAction(config({}, RELOADING, '/b/R'), config({}))).toBeNull();
    expect(reloadAction(config({ plain: 'b' }, RELOADING.replace('<action name="reload"/>', '').replace('<action name="reload-agent"/>', '')), config({ plain: 'a' }))).toBeNull();
  });
});
