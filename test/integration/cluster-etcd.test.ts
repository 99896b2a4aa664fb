import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startEtcd, until } from './cluster-harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
import { storeScenarios } from './cluster-scenarios.js';

storeScenarios('etcd', startEtcd);

describe('examples/cluster.ts (the README\'s three-node example)', () => {
  it('three nodes on one etcd: node-a runs "web"; stopping it hands "web" to node-b, preferred over node-c', async () => {
    const etcd = await startEtcd();
    const nodes = new Map<string, { child: ChildProcess; out: string }>();
    try {
      for (const node of ['node-a', 'node-b', 'node-c']) {
        const child = spawn(process.execPath, ['--import', 'tsx', 'examples/cluster.ts'], {
          cwd: root,
          env: { ...process.env, NODE: node, ETCD: (etcd.store as { hosts: string }).hosts, TTL: '3000' },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const entry = { child, out: '' };
        child.stdout!.on('data', (d) => (entry.out += d));
        nodes.set(node, entry);
        await until(`${node} started`, 30_000, () => entry.out.includes(`${node}: started`));
      }
      await until('node-a online', 10_000, () => nodes.get('node-a')!.out.includes('node-a: app online, fencing token'));
      expect(nodes.get('node-b')!.out).not.toContain('online');
      expect(nodes.get('node-c')!.out).not.toContain('online');
      const a = nodes.get('node-a')!;
      a.child.kill('SIGTERM');
      await new Promise((r) => a.child.once('exit', r));
      expect(a.out).toMatch(/node-a: app offline\nnode-a: db offline/);
      // Both node-b and node-c see "web" free; node-b is preferred over node-c (node-c waits a ttl / 3 longer).
      await until('node-b online', 10_000, () => nodes.get('node-b')!.out.includes('node-b: app online'));
      expect(nodes.get('node-c')!.out).not.toContain('online');
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      expect(readme).toContain(`\`\`\`ts\n${readFileSync(join(root, 'examples/cluster.ts'), 'utf8')}\`\`\``);
    } finally {
      for (const { child } of nodes.values()) if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.all([...nodes.values()].map(({ child }) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : null)));
      await etcd.stop();
    }
  });
});
