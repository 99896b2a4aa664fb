import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultsMain } from '../src/cli/defaults.js';
import { readConfigFile } from '../src/config/file.js';
import { checkShape } from '../src/config/shape.js';

// What a new user sees for a config file that is missing, unparsable or not a mapping: one line
// per problem naming the file and the rule, and an exit code, never a stack trace.
describe('config file errors as the commands print them', () => {
  let dir: string;
  let stderr: string[];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'resmon-config-errors-'));
    stderr = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resmon defaults FILE with a file that does not exist: the reason and exit 1, no stack trace', async () => {
    const file = path.join(dir, 'nope.yaml');
    expect(await defaultsMain([file])).toBe(1);
    expect(stderr).toEqual([`${file}: the config file cannot be read (ENOENT) (got ${JSON.stringify(file)})\n`, `${file}: 1 error\n`]);
  });

  it('resmon defaults FILE with a file that is not YAML: file:line:col and exit 1', async () => {
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, 'defaults: {restartDelay: 1\n');
    expect(await defaultsMain([file])).toBe(1);
    expect(stderr.join('')).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:1: line 2 is not valid YAML or JSON: .*\n.*: 1 error\n$`));
    expect(stderr.join('')).not.toMatch(/\n\s+at /);
  });

  it('an empty file or a list names "the file" and every top-level field it may have', async () => {
    const empty = path.join(dir, 'empty.yaml');
    writeFileSync(empty, '\n');
    const list = path.join(dir, 'list.json');
    writeFileSync(list, '[1]\n');
    const rule = 'the file must be a mapping with `resources` (and optionally `defaults`, `types`, `control`, `logs` and `http`)';
    expect(checkShape(await readConfigFile(empty)).errors.map((e) => e.message)).toEqual([`${empty}: ${rule} (got null)`]);
    expect(checkShape(await readConfigFile(list)).errors.map((e) => e.message)).toEqual([`${list}:1:1: ${rule} (got an array)`]);
  });

  it('cluster.preferredNodes keyed by a grouped resource or by no unit: an error naming the key and the rule', async () => {
    const file = path.join(dir, 'cluster.yaml');
    writeFileSync(
      file,
      [
        'cluster: { node: a, ttl: 3000, etcd: { hosts: "127.0.0.1:2379" }, preferredNodes: { db: [a, b], wbe: [a], web: [b], svc: [a] } }',
        'resources:',
        '  - { name: db, type: process, group: web, properties: { command: "true" } }',
        '  - { name: svc, type: process, properties: { command: "true" } }',
        '',
      ].join('\n'),
    );
    const shape = checkShape(await readConfigFile(file));
    const messages = shape.errors.map((e) => e.message);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/cluster\.preferredNodes\.db.*names resource "db" of group "web": a group's resources move together, so key it by the group \("web"\)/);
    expect(messages[1]).toMatch(/cluster\.preferredNodes\.wbe.*names no group or ungrouped resource of this file \(units: web, svc\)/);
    expect(shape.cluster).toBeNull();
  });
});
