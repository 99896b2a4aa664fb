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
      `${config}:19:11: resources[4].type is not a known type (known: process, http, tcp, ocf) (got "queue")`,
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
    expect(a).toMatch(/empty\.yaml:2:11: resource is not a top-level field \(known: defaults, types, resources, control, logs, http, cluster\)/);
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

  it('reports every error of a resource in one run: all its policy errors, its unknown fields, its type and its properties', async () => {
    const config = file(
      'many.yaml',
      [
        'defaults: { restartDelay: -1, pollJitter: 7 }',
        'resources:',
        '  - name: a',
        '    type: queue',
        '    colour: red',
        '    size: 3',
        '    policy: { restartDelay: -5, pendingTimeout: x, restartThreshold: 2 }',
        '  - name: b',
        '    type: tcp',
        '    properties: { port: 70000 }',
        '    policy: { nope: 1 }',
        '',
      ].join('\n'),
    );
    const text = await problems(config);
    const lines = text.split('\n');
    expect(lines).toHaveLength(9);
    expect(text).toMatch(/many\.yaml:1:\d+: defaults\.restartDelay must be a number >= 0 \(got -1\)/);
    expect(text).toMatch(/many\.yaml:1:\d+: defaults\.pollJitter must be a number >= 0 and <= 1 \(got 7\)/);
    expect(text).toMatch(/many\.yaml:4:\d+: resources\[0\]\.type is not a known type/);
    expect(text).toMatch(/many\.yaml:5:\d+: resources\[0\]\.colour is not a field of a resource/);
    expect(text).toMatch(/many\.yaml:6:\d+: resources\[0\]\.size is not a field of a resource/);
    expect(text).toMatch(/many\.yaml:7:\d+: resources\[0\]\.policy\.restartDelay must be a number >= 0 \(got -5\)/);
    expect(text).toMatch(/many\.yaml:7:\d+: resources\[0\]\.policy\.pendingTimeout must be/);
    expect(text).toMatch(/many\.yaml:10:\d+: resources\[1\]\.properties\.port must be an integer >= 1 and <= 65535 \(got 70000\)/);
    expect(text).toMatch(/many\.yaml:11:\d+: resources\[1\]\.policy\.nope is not a policy field/);
  });

  it('rejects NUL bytes in a command, its arguments and environment, and an env variable named __proto__', async () => {
    const config = file(
      'nul.json',
      JSON.stringify({
        resources: [
          { name: 'a', type: 'process', properties: { command: 'no\u0000de' } },
          { name: 'b', type: 'process', properties: { command: 'node', args: ['x', 'y\u0000'] } },
          { name: 'c', type: 'process', properties: { command: 'node', env: { A: 'v\u0000' } } },
          { name: 'd', type: 'process', properties: { command: 'node', env: { 'A\u0000B': 'v' } } },
        ],
      }).replace('"env":{"A":"v\\u0000"}', '"env":{"__proto__":"x","A":"v\\u0000"}'),
    );
    const text = await problems(config);
    expect(text).toMatch(/resources\[0\]\.properties\.command must not contain a NUL byte/);
    expect(text).toMatch(/resources\[1\]\.properties\.args\[1\] must not contain a NUL byte/);
    expect(text).toMatch(/resources\[2\]\.properties\.env\.__proto__ is not allowed as a name/);
    expect(text).toMatch(/resources\[3\]\.properties\.env\.A\u0000B must not contain a NUL byte \(its name/);
  });

  it('reports a missing command: an error when it is an absolute path, a warning when it is not on PATH', async () => {
    const config = file(
      'commands.yaml',
      [
        'resources:',
        '  - { name: a, type: process, properties: { command: /no/such/binary } }',
        '  - { name: b, type: process, properties: { command: no-such-program-here } }',
        '  - { name: c, type: process, properties: { command: node } }',
        '  - { name: d, type: process, properties: { command: ./bin/later } }',
        '',
      ].join('\n'),
    );
    const bad = await resmon(['validate', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')).toEqual([
      `${config}:2:54: resources[0].properties.command does not exist (got "/no/such/binary")`,
      `${config}:3:54: warning: resources[1].properties.command is not found on PATH; the resource cannot start until it is (got "no-such-program-here")`,
      `${config}:5:54: warning: resources[3].properties.command is not an executable file yet (${path.join(dir, 'bin/later')}); the resource cannot start until it is (got "./bin/later")`,
      `${config}: 1 error, 2 warnings`,
      '',
    ]);
    const warned = file('warned.yaml', 'resources:\n  - { name: b, type: process, properties: { command: no-such-program-here } }\n');
    const ok = await resmon(['validate', warned]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/warned\.yaml:2:\d+: warning: resources\[0\]\.properties\.command is not found on PATH/);
    expect(ok.stdout).toBe(`${warned}: ok (1 warning), 1 resource: b (process)\n`);
  });

  it('says so when the file cannot be read', async () => {
    expect(await problems(path.join(dir, 'nowhere.yaml'))).toMatch(/nowhere\.yaml: the config file cannot be read \(ENOENT\)/);
  });
});

describe('resmon (usage)', () => {
  it('exits 2 with the usage when a command or its file is missing', async () => {
    const none = await resmon([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage:\n {2}resmon run <config\.yaml\|json> \[--json\] \[--events LIST\] \[--verbose\] \[--control PATH\] \[--http HOST:PORT\]\n {2}resmon validate/);
    const unknown = await resmon(['start', 'x.yaml']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "start" \(commands: run, validate[,)]/);
    const noFile = await resmon(['validate']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/expected one config file, got 0/);
    const badFlag = await resmon(['run', '--colour', 'x.yaml']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/unknown option --colour \(options: --json, -v, --verbose, --events, --http, --control, -h, --help\)/);
  });

  it('resmon run --help describes every flag, the signals and the files it writes; --version prints the version', async () => {
    const { code, stdout } = await resmon(['run', '--help']);
    expect(code).toBe(0);
    for (const flag of ['--json', '--events LIST', '--verbose', '--control PATH', '--http HOST:PORT']) expect(stdout).toContain(flag);
    expect(stdout).toMatch(/SIGINT, SIGTERM +take every resource offline/);
    expect(stdout).toMatch(/SIGHUP +reload the config file/);
    expect(stdout).toMatch(/\.resmon\/control\.sock +the control socket, mode 0600/);
    expect(stdout).toMatch(/\.resmon\/logs\/NAME\.out\.log/);
    const version = await resmon(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^resmon \d+\.\d+\.\d+/) });
  });

  it('prints the usage on --help and exits 0', async () => {
    const { code, stdout } = await resmon(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Commands:\n {2}run +bring every resource .*\n {2}validate +check a config file/);
  });
});
