import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResourceMonitor, type ResourceType } from 'resmon';
import { oneResource, TestMonitor } from './helpers/monitor.js';
import { recordingType } from './helpers/recording.js';
import { configError } from './helpers/errors.js';

/**
 * Issue 10 §3: options, policies and defaults are snapshotted at the boundary (each getter read
 * once), validated, and only the copy is used; keys inherited from Object.prototype are unknown
 * fields; restart delays stay finite.
 */

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const type: ResourceType = { name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => true };


const INHERITED = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__'];

describe('keys inherited from Object.prototype are unknown fields', () => {
  const layers: [string, string, (policy: object) => unknown][] = [
    ['a resource policy', 'policy', (policy) => {
      const monitor = new ResourceMonitor();
      monitor.registerType(type);
      monitor.addResource({ name: 'r', type: 't', policy: policy as never });
    }],
    ['monitor defaults', 'options.defaults', (policy) => new ResourceMonitor({ defaults: policy as never })],
    ['type defaults', 'type.defaults', (policy) => new ResourceMonitor().registerType({ ...type, defaults: policy as never })],
  ];
  for (const [what, path, use] of layers) {
    it(`in ${what}: __proto__ as JSON.parse makes it`, () => {
      const policy = JSON.parse('{"__proto__": {"restartDelay": 5}}') as object;
      const error = configError(() => use(policy));
      expect(error.field).toBe(`${path}.__proto__`);
      expect(error.message).toMatch(/is not a policy field \(known: looksAlivePollInterval/);
    });
    for (const key of INHERITED) {
      it(`in ${what}: ${key}`, () => {
        const error = configError(() => use({ [key]: 5 }));
        expect(error.field).toBe(`${path}.${key}`);
        expect(error.message).toMatch(/is not a policy field \(known: looksAlivePollInterval/);
      });
    }
  }
});

describe('validation cannot be bypassed', () => {
  it('reads each getter of a policy once, and uses the value it validated', async () => {
    let reads = 0;
    const policy = {
      looksAlivePollInterval: 0,
      get isAlivePollInterval() {
        reads++;
        return reads === 1 ? 1_000 : 0;
      },
    };
    const rec = recordingType();
    await using monitor = new TestMonitor();
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'r', type: 'rec', policy: policy as never });
    expect(reads).toBe(1);
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([1_000, 2_000, 3_000]);
    await monitor.close();
  });

  it('keeps a copy of the monitor defaults: mutating the object afterwards changes nothing', async () => {
    const defaults = { looksAlivePollInterval: 0, isAlivePollInterval: 1_000 };
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults });
    defaults.isAlivePollInterval = 0;
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'r', type: 'rec' });
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rec.calls('isAlive')).toHaveLength(2);
    await monitor.close();
  });

  it("keeps a copy of a type's defaults: mutating them after registerType changes nothing", async () => {
    const rec = recordingType();
    const defaults = { looksAlivePollInterval: 0, isAlivePollInterval: 1_000 };
    await using monitor = new TestMonitor();
    monitor.registerType({ ...rec.type, defaults });
    defaults.isAlivePollInterval = 0;
    (rec.type as { defaults?: unknown }).defaults = { isAlivePollInterval: -5 };
    monitor.addResource({ name: 'r', type: 'rec' });
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rec.calls('isAlive')).toHaveLength(2);
    await monitor.close();
  });

  it("reads a type's defaults and name once", async () => {
    let defaultsReads = 0;
    let nameReads = 0;
    await using monitor = new TestMonitor();
    monitor.registerType({
      ...type,
      get name() {
        nameReads++;
        return nameReads === 1 ? 't' : '';
      },
      get defaults() {
        defaultsReads++;
        return defaultsReads === 1 ? { restartDelay: 5 } : { restartDelay: -1 };
      },
    });
    expect([nameReads, defaultsReads]).toEqual([1, 1]);
    monitor.addResource({ name: 'r', type: 't' });
  });

  it('reads each option once and each field of a resource spec once', async () => {
    let reads = 0;
    const options = {
      get defaults() {
        reads++;
        return reads === 1 ? { restartDelay: 5 } : { restartDelay: -1 };
      },
    };
    await using monitor = new TestMonitor(options as never);
    expect(reads).toBe(1);
    monitor.registerType(type);
    let policyReads = 0;
    const spec = {
      name: 'r',
      type: 't',
      get policy() {
        policyReads++;
        return policyReads === 1 ? { restartDelay: 5 } : { restartDelay: -1 };
      },
    };
    monitor.addResource(spec as never);
    expect(policyReads).toBe(1);
  });

  it('turns a throwing getter or a throwing Proxy trap into a ConfigError naming the field', async () => {
    const throwing = {
      get restartDelay(): number {
        throw new Error('boom');
      },
    };
    const error = configError(() => new ResourceMonitor({ defaults: throwing }));
    expect(error.field).toBe('options.defaults.restartDelay');
    expect(error.message).toMatch(/could not be read: boom/);

    await using monitor = new TestMonitor();
    monitor.registerType(type);
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys');
        },
      },
    );
    const e2 = configError(() => monitor.addResource({ name: 'r', type: 't', policy: trap }));
    expect(e2.field).toBe('policy');
    expect(e2.message).toMatch(/could not be read: no keys/);

    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(configError(() => monitor.addResource({ name: 'r', type: 't', policy: proxy })).field).toBe('policy');
    expect(configError(() => new ResourceMonitor(proxy as never)).field).toBe('options');
    expect(configError(() => monitor.addResource(proxy as never)).field).toBe('spec');
    const getterSpec = {
      name: 'r',
      get type(): string {
        throw new Error('no type');
      },
    };
    expect(configError(() => monitor.addResource(getterSpec as never)).field).toBe('type');
    expect(monitor.snapshot()).toEqual([]);
  });
});

describe('restart delays are always finite, within [0, maxRestartDelay]', () => {
  /** One resource whose isAlive fails from `fail()` on, restarted with restartBackoff 1e308 (delays that overflow). */
  function overflowingBackoff(restartDelay: number) {
    let healthy = true;
    const rec = recordingType('rec', { isAlive: () => healthy });
    const defaults = { looksAlivePollInterval: 0, isAlivePollInterval: 100, restartDelay, restartBackoff: 1e308, restartThreshold: 3, maxRestartDelay: 1_000 };
    return { ...oneResource(rec.type, { defaults }), fail: () => void (healthy = false) };
  }

  it('restartDelay 0 with a huge restartBackoff: delays are 0, inspect() is JSON-safe', async () => {
    await using fixture = overflowingBackoff(0);
    const { monitor, of, fail } = fixture;
    await monitor.online('r');
    fail();
    for (let i = 0; i < 8; i++) {
      await vi.advanceTimersByTimeAsync(100);
      const status = monitor.inspect('r');
      expect(JSON.parse(JSON.stringify(status))).toEqual(status);
    }
    const delays = of('restartScheduled')
      .filter((e) => !e.retry)
      .map((e) => e.delayMs);
    expect(delays).toHaveLength(3);
    for (const d of delays) expect(d).toBe(0);
    await monitor.close();
  });

  it('a backed-off delay that overflows is capped at maxRestartDelay', async () => {
    await using fixture = overflowingBackoff(10);
    const { monitor, of, fail } = fixture;
    await monitor.online('r');
    fail();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(of('restartScheduled').map((e) => e.delayMs).slice(0, 3)).toEqual([10, 1_000, 1_000]);
    await monitor.close();
  });
});

describe('a config file', () => {
  it('reports inherited keys in defaults and policies as file:line:col errors (YAML and JSON)', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readConfigFile } = await import('../src/config/file.js');
    const { checkShape } = await import('../src/config/shape.js');
    const dir = await mkdtemp(join(tmpdir(), 'resmon-input-'));
    try {
      const yaml = join(dir, 'c.yaml');
      await writeFile(
        yaml,
        ['defaults:', '  constructor: 5', 'resources:', '  - name: a', '    type: tcp', '    policy:', '      __proto__: { restartDelay: 1 }', ''].join('\n'),
      );
      const fromYaml = checkShape(await readConfigFile(yaml)).errors.map((e) => e.message);
      expect(fromYaml).toEqual([
        expect.stringMatching(/c\.yaml:2:16: defaults\.constructor is not a policy field/),
        expect.stringMatching(/c\.yaml:7:18: resources\[0\]\.policy\.__proto__ is not a policy field/),
      ]);
      const json = join(dir, 'c.json');
      await writeFile(json, '{\n  "defaults": { "__proto__": { "restartDelay": 1 } },\n  "resources": [{ "name": "a", "type": "tcp", "policy": { "valueOf": 1 } }]\n}\n');
      const fromJson = checkShape(await readConfigFile(json)).errors.map((e) => e.message);
      expect(fromJson).toEqual([
        expect.stringMatching(/c\.json:2:\d+: defaults\.__proto__ is not a policy field/),
        expect.stringMatching(/c\.json:3:\d+: resources\[0\]\.policy\.valueOf is not a policy field/),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
