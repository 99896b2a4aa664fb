import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigFileError } from '../../src/config/file.js';
import { openConfig } from '../../src/config/open.js';
import { resmon, root } from '../fixtures/servers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'resmon-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a file in the temporary folder; returns its path. */
function file(name: string, text: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, text);
  return full;
}

/** What `resmon validate` prints on stderr for `config` (checked in this process: the same code path). */
async function problems(config: string): Promise<string> {
  try {
    const opened = await openConfig(config, { mode: 'validate' });
    await opened.monitor.close();
    return '';
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    return error.errors.map((e) => e.message).join('\n');
  }
}

describe('resmon validate', () => {
  it('accepts the README example and lists its resources', async () => {
    const { code, stdout, stderr } = await resmon(['validate', 'examples/config/resmon.yaml']);
    expect(stderr).toBe('');
    expect(stdout).toBe('examples/config/resmon.yaml: ok, 2 resources: web (process), web-endpoint (http)\n');
    expect(code).toBe(0);
  });

  it('names the file, the line, the path inside it and the rule of every error, and exits 1', async () => {
    const config = file(
      'broken.yaml',
      [
        'defaults:',
        '  restartDelay: 1000',
        'resources:',
        '  - name: web',
        '    type: process',
        '    properties:',
        '      args: [server.js]',
        '  - name: cache',
        '    type: tcp',
        '    properties: { host: 127.0.0.1, port: 70000 }',
        '  - name: api',
        '    type: http',
        '    properties: { url: "http://127.0.0.1:8080/health" }',
        '    policy: { restartDelay: -5 }',
        '  - name: api',
        '    type: http',
        '    properties: { url: "http://127.0.0.1:8080/" }',
        '  - name: q',
        '    type: queue',
        '  - name: bad-url',
        '    type: http',
        '    properties: { url: "localhost:8080" }',
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await resmon(['validate', config]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toEqual([
      `${config}:7:7: resources[0].properties.command is required: a non-empty string (got undefined)`,
      `${config}:10:42: resources[1].properties.port must be an integer >= 1 and <= 65535 (got 70000)`,
      `${config}:14:29: resources[2].policy.restartDelay must be a number >= 0 (got -5)`,
      `${config}:15:11: resources[3].name is already the name of resources[2]; names must be unique (got "api")`,
      `${config}:19:11: resources[4].type is not a known type (known: process, http, tcp) (got "queue")`,
      `${config}:22:24: resources[5].properties.url must be an absolute http:// or https:// URL (got "localhost:8080")`,
      `${config}: 6 errors`,
      '',
    ]);
  });

  it('checks JSON files the same way', async () => {
    const config = file('broken.json', JSON.stringify({ resources: [{ name: 'x', type: 'tcp', properties: { port: 0 } }] }));
    expect(await problems(config)).toMatch(/broken\.json:1:\d+: resources\[0\]\.properties\.port must be an integer >= 1 and <= 65535 \(got 0\)/);
  });

  it('reports a YAML syntax error with its line', async () => {
    const config = file('syntax.yaml', 'resources:\n  - name: web\n    type: [process\n');
    expect(await problems(config)).toMatch(/syntax\.yaml:\d+:\d+: line \d+ is not valid YAML or JSON: /);
  });

  it('rejects unknown fields, a missing resources list and cross-field policy rules', async () => {
    const a = await problems(file('empty.yaml', 'defaults: { restartDelay: 10 }\nresource: []\n'));
    expect(a).toMatch(/empty\.yaml:2:11: resource is not a top-level field \(known: defaults, types, resources\)/);
    expect(a).toMatch(/empty\.yaml(:\d+:\d+)?: resources must be a non-empty list/);
    const b = await problems(
      file('retry.yaml', 'defaults: { restartPeriod: 10000 }\nresources:\n  - { name: t, type: tcp, properties: { port: 1 }, policy: { retryPeriodOnFailure: 50 } }\n'),
    );
    expect(b).toMatch(/retry\.yaml:3:\d+: resources\[0\]\.policy\.retryPeriodOnFailure must be >= restartPeriod \(10000\)/);
    const c = await problems(file('defaults.yaml', 'defaults: { pollJitter: 2 }\nresources:\n  - { name: t, type: tcp, properties: { port: 1 } }\n'));
    expect(c).toMatch(/defaults\.yaml:1:25: defaults\.pollJitter must be a number >= 0 and <= 1 \(got 2\)/);
  });

  it("loads a module type relative to the config file and checks properties with the type's own validate", async () => {
    file(
      'queue-type.mjs',
      `import { ConfigError } from ${JSON.stringify(path.join(root, 'src/index.ts'))};
export const queueType = {
  name: 'queue',
  validate(p) {
    if (typeof p.depth !== 'number') throw new ConfigError('depth', p.depth, 'must be a number');
    return p;
  },
  online() {}, offline() {}, terminate() {}, isAlive: () => true,
};
`,
    );
    const good = file('queue.yaml', 'types:\n  - { module: ./queue-type.mjs, exportName: queueType, isolation: worker }\nresources:\n  - { name: q, type: queue, properties: { depth: 3 } }\n');
    const ok = await resmon(['validate', good]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/ok, 1 resource: q \(queue\)/);
    expect(ok.code).toBe(0);
    const bad = file('queue-bad.yaml', 'types:\n  - { module: ./queue-type.mjs, exportName: queueType }\nresources:\n  - { name: q, type: queue, properties: { depth: deep } }\n');
    expect(await problems(bad)).toMatch(/queue-bad\.yaml:4:\d+: resources\[0\]\.properties\.depth must be a number \(got "deep"\)/);
    const missing = file('missing-export.yaml', 'types:\n  - { module: ./queue-type.mjs, exportName: nope }\nresources:\n  - { name: t, type: tcp, properties: { port: 1 } }\n');
    expect(await problems(missing)).toMatch(/missing-export\.yaml:2:\d+: types\[0\]\.exportName is not exported by .*queue-type\.mjs \(its exports: queueType\)/);
    const noModule = file('no-module.yaml', 'types:\n  - { module: ./nowhere.mjs }\nresources:\n  - { name: t, type: tcp, properties: { port: 1 } }\n');
    expect(await problems(noModule)).toMatch(/no-module\.yaml:2:\d+: types\[0\]\.module could not be loaded: /);
  });

  it('says so when the file cannot be read', async () => {
    expect(await problems(path.join(dir, 'nowhere.yaml'))).toMatch(/nowhere\.yaml: the config file cannot be read \(ENOENT\)/);
  });
});

describe('resmon (usage)', () => {
  it('exits 2 with the usage when a command or its file is missing', async () => {
    const none = await resmon([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage:\n {2}resmon run <config\.yaml\|json> \[--json\] \[--verbose\]\n {2}resmon validate/);
    const unknown = await resmon(['start', 'x.yaml']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "start" \(commands: run, validate[,)]/);
    const noFile = await resmon(['validate']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/expected one config file, got 0/);
    const badFlag = await resmon(['run', '--colour', 'x.yaml']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/Unknown option '--colour'/);
  });

  it('prints the usage on --help and exits 0', async () => {
    const { code, stdout } = await resmon(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Commands:\n {2}run +bring every resource .*\n {2}validate +check a config file/);
  });
});
