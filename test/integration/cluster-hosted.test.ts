import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ResourceMonitor } from 'resmon';

const module = fileURLToPath(new URL('../fixtures/cluster/token-type.ts', import.meta.url));

describe('ctx.fencingToken reaches types isolated in a worker or a process', () => {
  for (const isolation of ['worker', 'process'] as const) {
    it(`${isolation}: every call after setFencingToken sees the token; none before`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'resmon-token-'));
      const file = join(dir, 'calls');
      const monitor = new ResourceMonitor();
      try {
        await monitor.registerType({ module, isolation });
        monitor.addResource({ name: 'r', type: 'token', properties: { file } });
        await monitor.online('r');
        await monitor.offline('r');
        monitor.setFencingToken('r', 42);
        await monitor.online('r');
        await monitor.terminate('r');
        expect(readFileSync(file, 'utf8')).toBe('online undefined\noffline undefined\nonline 42\nterminate 42\n');
      } finally {
        await monitor.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
