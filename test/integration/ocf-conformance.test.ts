// resmon/testing's conformance suite and Pacemaker's ocf-tester on the same four agents (none
// needs root privileges for itself or an external server). docs/ocf.md tabulates what each tool
// reports and why they differ; these tests keep that table true.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createOcfType, type OcfConfig, type OcfHandle } from 'resmon';
import { type ConformanceOptions, verifyResourceType, type ConformanceReport, formatReport } from 'resmon/testing';
import { HEARTBEAT, tempDir } from '../fixtures/ocf/agents.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const runtimeDir = path.join(tmp.dir, 'rsctmp');
const ocf = createOcfType({ runtimeDir });
const at = (name: string) => path.join(tmp.dir, name);

interface Case {
  agent: string;
  params: Record<string, string>;
  breakResource: (handle: OcfHandle, properties: OcfConfig) => void;
  limits?: ConformanceOptions['limits'];
}

const CASES: Case[] = [
  { agent: 'Dummy', params: { state: at('dummy.state') }, breakResource: () => rmSync(at('dummy.state')) },
  {
    agent: 'Delay',
    params: { startdelay: '0', stopdelay: '0', mondelay: '0' },
    // Delay keeps its state as HA_RSCTMP/Delay_<instance>.
    breakResource: () => {
      for (const f of readdirSync(runtimeDir)) if (f.startsWith('Delay_')) rmSync(path.join(runtimeDir, f));
    },
  },
  {
    agent: 'anything',
    params: { binfile: '/bin/sleep', cmdline_options: '1000', pidfile: at('anything.pid') },
    breakResource: () => void process.kill(Number(readFileSync(at('anything.pid'), 'utf8')), 'SIGKILL'),
    // Its stop sends SIGTERM, then looks again once a second: more than the suite's default 2 s
    // for two terminates in a row. 5 s is still a quarter of the 20 s it advertises.
    limits: { deadlockTimeout: 5_000 },
  },
  { agent: 'symlink', params: { link: at('link'), target: tmp.dir }, breakResource: () => unlinkSync(at('link')) },
];

/**
 * Every conformance case passed. The one case skipped: the ocf type refuses no valid change of properties
 * (a change that no reload can apply is stored for the next start), so there are no
 * `refusedProperties` to give the suite.
 */
function expectAllPassed(report: ConformanceReport) {
  expect(report.cases.filter((c) => !c.passed).map((c) => c.name), formatReport(report)).toEqual([]);
  expect(report.cases.filter((c) => c.skipped).map((c) => [c.name, c.reason])).toEqual([
    ['a change applyProperties refuses leaves the old properties in force', 'no refusedProperties in the options'],
  ]);
}

describe('resmon/testing conformance of OCF agents under the ocf type', () => {
  for (const c of CASES) {
    it(`heartbeat/${c.agent} passes every conformance case`, async () => {
      const report = await verifyResourceType(ocf, {
        properties: { agent: `heartbeat/${c.agent}`, params: c.params },
        breakResource: c.breakResource,
        controlCodes: [{ code: 'ocf-metadata' }],
        ...(c.limits ? { limits: c.limits } : {}),
      });
      expectAllPassed(report);
      expect(report.cases.length).toBeGreaterThanOrEqual(19);
    }, 120_000);
  }
});

const run = promisify(execFile);

/** Runs ocf-tester; its exit code and output (it exits non-zero when a test fails). */
async function ocfTester(c: Case): Promise<{ code: number; out: string }> {
  const args = ['-n', `tester-${c.agent}-${process.pid}`, ...Object.entries(c.params).flatMap(([k, v]) => ['-o', `${k}=${v}`]), path.join(HEARTBEAT, c.agent)];
  try {
    const { stdout, stderr } = await run('ocf-tester', args, { timeout: 120_000, env: { ...process.env, HA_RSCTMP: runtimeDir } });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('ocf-tester (resource-agents) on the same agents, as docs/ocf.md reports', () => {
  it('is installed, with xmllint for its meta-data check', () => {
    expect(existsSync('/usr/sbin/ocf-tester')).toBe(true);
    expect(existsSync('/usr/bin/xmllint')).toBe(true);
  });

  for (const c of CASES.filter((c) => c.agent !== 'Delay')) {
    it(`passes heartbeat/${c.agent}`, async () => {
      const { code, out } = await ocfTester(c);
      expect(out).toContain(`${path.join(HEARTBEAT, c.agent)} passed all tests`);
      expect(code).toBe(0);
    }, 120_000);
  }

  it('fails heartbeat/Delay: it answers the optional actions (notify, promote, demote) with 2 instead of 3', async () => {
    const { code, out } = await ocfTester(CASES.find((c) => c.agent === 'Delay')!);
    expect(code).not.toBe(0);
    expect(out).toContain('* rc=2: The notify action cannot fail and must return 0');
    expect(out).toContain('Aborting tests');
  }, 120_000);
});
