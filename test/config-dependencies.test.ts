import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigFileError } from '../src/config/file.js';
import { openConfig } from '../src/config/open.js';

const dir = mkdtempSync(path.join(tmpdir(), 'resmon-deps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const full = path.join(dir, name);
  writeFileSync(full, `${lines.join('\n')}\n`);
  return full;
}

async function problems(config: string): Promise<string[]> {
  try {
    const opened = await openConfig(config, { mode: 'validate' });
    await opened.monitor.close();
    return [];
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    return error.errors.map((e) => e.message);
  }
}

const tcp = (port: number) => `    properties: { host: 127.0.0.1, port: ${port} }`;

describe('group: and dependsOn: in the config file', () => {
  it('takes resources in any order and adds them with their groups and dependencies', async () => {
    const config = file('ok.yaml', [
      'resources:',
      '  - name: app',
      '    type: tcp',
      tcp(1003),
      '    group: web',
      '    dependsOn: [name, { anyOf: [ip-a, ip-b] }]',
      '  - name: name',
      '    type: tcp',
      tcp(1002),
      '    group: web',
      '    dependsOn: [ip-a]',
      '  - name: ip-a',
      '    type: tcp',
      tcp(1001),
      '    group: web',
      '  - name: ip-b',
      '    type: tcp',
      tcp(1004),
      '    group: web',
    ]);
    const opened = await openConfig(config, { mode: 'validate' });
    expect(opened.resources).toEqual(['app', 'name', 'ip-a', 'ip-b']);
    expect(opened.monitor.inspect('app')).toMatchObject({ group: 'web', dependsOn: ['name', { anyOf: ['ip-a', 'ip-b'] }] });
    expect(opened.monitor.groupStatus('web')).toEqual({ name: 'web', state: 'offline', resources: ['ip-a', 'name', 'ip-b', 'app'] });
    await opened.monitor.close();
  });

  it('reports unknown names, cycles and cross-group dependencies with file:line:col', async () => {
    const config = file('bad.yaml', [
      'resources:',
      '  - name: a',
      '    type: tcp',
      tcp(1001),
      '    dependsOn: [b]',
      '  - name: b',
      '    type: tcp',
      tcp(1002),
      '    dependsOn: [c, { anyOf: [nope, a] }]',
      '  - name: c',
      '    type: tcp',
      tcp(1003),
      '  - name: d',
      '    type: tcp',
      tcp(1004),
      '    group: g',
      '    dependsOn: [c]',
    ]);
    expect(await problems(config)).toEqual([
      `${config}:9:30: resources[1].dependsOn[1].anyOf[0] is not the name of a resource in this file (known: a, b, c, d) (got "nope")`,
      `${config}:9:36: resources[1].dependsOn[1].anyOf[1] makes a cycle: a -> b -> a; a resource cannot depend on itself, directly or through others (got "a")`,
      `${config}:17:17: resources[3].dependsOn[0] is ungrouped but "d" is in group "g"; a resource and its dependencies must be in the same group (or all ungrouped) (got "c")`,
    ]);
  });

  it('reports a malformed dependsOn or group at its path', async () => {
    const config = file('shape.yaml', [
      'resources:',
      '  - name: a',
      '    type: tcp',
      tcp(1001),
      '    dependsOn: [{ anyOf: [] }]',
      '  - name: b',
      '    type: tcp',
      tcp(1002),
      '    group: 7',
    ]);
    expect(await problems(config)).toEqual([
      `${config}:5:26: resources[0].dependsOn[0].anyOf must be a non-empty list of resource names (got an array)`,
      `${config}:9:12: resources[1].group must be a non-empty string (the name of a group) (got 7)`,
    ]);
  });
});
