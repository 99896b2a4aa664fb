import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isConfigError, isDependencyError, isStateError, isUnknownResourceError } from 'resmon';
import { recordedMonitor } from './helpers/monitor.js';
import { deferred, recordingType } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const fast = { looksAlivePollInterval: 0, isAlivePollInterval: 1_000, restartAction: 'none' } as const;

/** A monitor with one recording type and the resources given as [name, dependsOn?, group?]. */
function setup(resources: [string, (string | { anyOf: string[] })[]?, string?][], options: Parameters<typeof recordedMonitor>[0] = {}, behaviour = {}) {
  const rec = recordingType('rec', behaviour);
  const m = recordedMonitor({ defaults: fast, ...options });
  m.monitor.registerType(rec.type);
  for (const [name, dependsOn, group] of resources) {
    m.monitor.addResource({ name, type: 'rec', ...(dependsOn ? { dependsOn } : {}), ...(group ? { group } : {}) });
  }
  /** `online:name@t` for each call of that entry point, in order. */
  const order = (entryPoint: string) => rec.calls().filter((s) => s.entryPoint === entryPoint).map((s) => `${s.resource}@${s.start}`);
  return { ...m, rec, order };
}

/** Advances the fake clock until `p` settles (at most a minute). */
async function settle<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const out = p.finally(() => (done = true));
  for (let i = 0; i < 60_000; i++) {
    await vi.advanceTimersByTimeAsync(0);
    if (done) break;
    await vi.advanceTimersByTimeAsync(1);
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('declaring dependencies', () => {
  it('shows group, dependsOn (as given) and target in inspect()', async () => {
    await using fixture = setup([['ip'], ['ip2'], ['app', ['ip', { anyOf: ['ip', 'ip2'] }]]]);
    const { monitor } = fixture;
    expect(monitor.inspect('app')).toMatchObject({ group: null, dependsOn: ['ip', { anyOf: ['ip', 'ip2'] }], target: 'offline' });
    await settle(monitor.close());
  });

  it('rejects an unknown name with DependencyError and adds nothing', async () => {
    await using fixture = setup([['ip']]);
    const { monitor } = fixture;
    const error = thrown(() => monitor.addResource({ name: 'app', type: 'rec', dependsOn: ['ip', 'db'] }));
    expect(isDependencyError(error)).toBe(true);
    expect((error as Error).message).toMatch(/resource "app": dependsOn names "db", which is not a resource/);
    expect(() => monitor.inspect('app')).toThrow(/no resource "app"/);
    await settle(monitor.close());
  });

  it('rejects a cycle, named as a -> b -> a, and changes nothing', async () => {
    await using fixture = setup([['a'], ['b', ['a']]]);
    const { monitor } = fixture;
    const error = await rejection(monitor.setDependencies('a', ['b']));
    expect(isDependencyError(error)).toBe(true);
    expect((error as Error).message).toContain('cycle: a -> b -> a');
    expect(monitor.inspect('a').dependsOn).toEqual([]);
    expect((thrown(() => monitor.addResource({ name: 'c', type: 'rec', dependsOn: ['c'] })) as Error).message).toContain('c -> c');
    await monitor.setDependencies('a', []);
    await using second = setup([['a'], ['b', ['a']], ['c', [{ anyOf: ['b', 'a'] }]]]);
    const { monitor: m2 } = second;
    expect((await rejection(m2.setDependencies('a', ['c'])) as Error).message).toContain('cycle: a -> c -> a');
    await settle(monitor.close());
    await settle(m2.close());
  });

  it('rejects a dependency across groups, and between a grouped and an ungrouped resource', async () => {
    await using fixture = setup([['db', [], 'data'], ['ip']]);
    const { monitor } = fixture;
    const cross = thrown(() => monitor.addResource({ name: 'app', type: 'rec', group: 'web', dependsOn: ['db'] }));
    expect(isDependencyError(cross)).toBe(true);
    expect((cross as Error).message).toMatch(/cannot depend on "db": it is in group "data" and this resource is in group "web"/);
    expect((thrown(() => monitor.addResource({ name: 'app', type: 'rec', group: 'web', dependsOn: ['ip'] })) as Error).message).toMatch(
      /it is ungrouped/,
    );
    expect(() => monitor.groupStatus('web')).toThrow(/no group "web"/);
    await settle(monitor.close());
  });

  it('rejects a malformed dependsOn or group with ConfigError naming the item', async () => {
    await using fixture = setup([['ip']]);
    const { monitor } = fixture;
    const bad = thrown(() => monitor.addResource({ name: 'app', type: 'rec', dependsOn: [{ anyOf: [] }] }));
    expect(isConfigError(bad) && bad.field).toBe('dependsOn[0].anyOf');
    expect(isConfigError(thrown(() => monitor.addResource({ name: 'app', type: 'rec', dependsOn: 'ip' as never })))).toBe(true);
    expect((thrown(() => monitor.addResource({ name: 'app', type: 'rec', group: '' })) as { field: string }).field).toBe('group');
    await settle(monitor.close());
  });

  it('refuses to remove a resource others depend on, naming them, and keeps it', async () => {
    await using fixture = setup([['ip'], ['name', ['ip']], ['app', [{ anyOf: ['ip'] }]]]);
    const { monitor } = fixture;
    await settle(monitor.online('ip'));
    const error = await rejection(monitor.removeResource('ip'));
    expect(isDependencyError(error)).toBe(true);
    expect((error as Error).message).toContain('"name", "app" depend on it');
    expect(monitor.getState('ip')).toBe('online');
    await monitor.removeResource('app');
    await monitor.removeResource('name');
    await monitor.removeResource('ip');
    await settle(monitor.close());
  });
});

describe('bringing a resource online', () => {
  it('brings its dependencies online first, bottom-up (ip -> name -> app), and sets every target to online', async () => {
    await using fixture = setup([['ip'], ['name', ['ip']], ['app', ['name']]], {}, {
      online: () => new Promise((r) => setTimeout(r, 10)),
    });
    const { monitor, transitions } = fixture;
    await settle(monitor.online('app'));
    expect(transitions()).toEqual([
      '0 offline->online-pending',
      '10 online-pending->online',
      '10 offline->online-pending',
      '20 online-pending->online',
      '20 offline->online-pending',
      '30 online-pending->online',
    ]);
    expect(transitions('app')).toEqual(['20 offline->online-pending', '30 online-pending->online']);
    expect(monitor.snapshot().map((s) => s.target)).toEqual(['online', 'online', 'online']);
    await settle(monitor.close());
  });

  it('brings independent branches online in parallel', async () => {
    await using fixture = setup([['disk'], ['ip'], ['app', ['disk', 'ip']]], {}, { online: () => new Promise((r) => setTimeout(r, 10)) });
    const { monitor, order } = fixture;
    await settle(monitor.online('app'));
    expect(order('online')).toEqual(['disk@0', 'ip@0', 'app@10']);
    await settle(monitor.close());
  });

  it('starts a dependency that online(a) and online(b) share once', async () => {
    await using fixture = setup([['db'], ['a', ['db']], ['b', ['db']]], {}, { online: () => new Promise((r) => setTimeout(r, 10)) });
    const { monitor, order } = fixture;
    await settle(Promise.all([monitor.online('a'), monitor.online('b')]));
    expect(order('online')).toEqual(['db@0', 'a@10', 'b@10']);
    expect(order('open')).toEqual(['db@0', 'a@10', 'b@10']);
    await settle(monitor.close());
  });

  it('rejects with DependencyError (cause: the dependency\'s error) and never starts the dependent when a dependency cannot come online', async () => {
    const boom = new Error('no address');
    await using fixture = setup([['ip'], ['app', ['ip']]], {}, {
      online: (ctx: { resource: string }) => {
        if (ctx.resource === 'ip') throw boom;
      },
    });
    const { monitor, of, rec } = fixture;
    const error = await rejection(monitor.online('app'));
    expect(isDependencyError(error)).toBe(true);
    expect((error as Error & { cause: unknown }).cause).toBe(boom);
    expect((error as Error).message).toMatch(/resource "app": dependency "ip" could not come online \(no address\)/);
    expect(of('stateChange').filter((e) => e.resource === 'app')).toEqual([]);
    expect(rec.calls().filter((s) => s.resource === 'app')).toEqual([]);
    expect(monitor.inspect('app').target).toBe('online');
    await settle(monitor.close());
  });

  it('with anyOf, is satisfied by any online member, and brings the first it can online', async () => {
    await using fixture = setup([['ip-a'], ['ip-b'], ['app', [{ anyOf: ['ip-a', 'ip-b'] }]]], {}, {
      online: (ctx: { resource: string }) => {
        if (ctx.resource === 'ip-a') throw new Error('taken');
      },
    });
    const { monitor, order } = fixture;
    await settle(monitor.online('app'));
    expect(order('online')).toEqual(['ip-a@0', 'ip-b@0', 'app@0']);
    await settle(monitor.offline('app'));
    await settle(monitor.online('app')); // ip-b is online: nothing else starts
    expect(order('online')).toEqual(['ip-a@0', 'ip-b@0', 'app@0', 'app@0']);
    await settle(monitor.close());
  });

  it('rejects when no member of an anyOf can come online, listing each', async () => {
    await using fixture = setup([['ip-a'], ['ip-b'], ['app', [{ anyOf: ['ip-a', 'ip-b'] }]]], {}, {
      online: (ctx: { resource: string }) => {
        if (ctx.resource !== 'app') throw new Error(`${ctx.resource} taken`);
      },
    });
    const { monitor } = fixture;
    const error = await rejection(monitor.online('app'));
    expect(isDependencyError(error)).toBe(true);
    expect((error as Error).message).toContain('no member of anyOf ["ip-a", "ip-b"] could come online ("ip-a": ip-a taken; "ip-b": ip-b taken)');
    await settle(monitor.close());
  });
});

describe('taking resources offline top-down', () => {
  it('offline(dep) takes its dependents offline first and sets their targets to offline', async () => {
    await using fixture = setup([['ip'], ['name', ['ip']], ['app', ['name']], ['other', ['ip']]], {}, {
      offline: () => new Promise((r) => setTimeout(r, 10)),
    });
    const { monitor, order } = fixture;
    await settle(monitor.online('app'));
    await settle(monitor.online('other'));
    await settle(monitor.offline('ip'));
    expect(order('offline').sort()).toEqual(['app@0', 'ip@20', 'name@10', 'other@0']);
    expect(monitor.snapshot().map((s) => `${s.name}:${s.state}:${s.target}`)).toEqual([
      'ip:offline:offline',
      'name:offline:offline',
      'app:offline:offline',
      'other:offline:offline',
    ]);
    await settle(monitor.close());
  });

  it('terminate(dep) terminates its dependents first', async () => {
    await using fixture = setup([['ip'], ['app', ['ip']]], {}, { terminate: () => new Promise((r) => setTimeout(r, 10)) });
    const { monitor, order } = fixture;
    await settle(monitor.online('app'));
    await settle(monitor.terminate('ip'));
    expect(order('terminate')).toEqual(['app@0', 'ip@10']);
    expect(monitor.getState('app')).toBe('offline');
    await settle(monitor.close());
  });

  it('leaves a dependent online when another member of its anyOf stays online', async () => {
    await using fixture = setup([['ip-a'], ['ip-b'], ['app', [{ anyOf: ['ip-a', 'ip-b'] }]]]);
    const { monitor } = fixture;
    await settle(monitor.online('ip-a'));
    await settle(monitor.online('ip-b'));
    await settle(monitor.online('app'));
    await settle(monitor.offline('ip-a'));
    expect(monitor.getState('app')).toBe('online');
    await Promise.all([monitor.offline('ip-b'), monitor.offline('ip-a')]);
    expect(monitor.getState('app')).toBe('offline');
    await settle(monitor.close());
  });

  it('close() goes top-down too', async () => {
    await using fixture = setup([['ip'], ['name', ['ip']], ['app', ['name']]], {}, { offline: () => new Promise((r) => setTimeout(r, 10)) });
    const { monitor, order } = fixture;
    await settle(monitor.online('app'));
    await settle(monitor.close());
    expect(order('offline')).toEqual(['app@0', 'name@10', 'ip@20']);
    expect(order('close')).toEqual(['app@10', 'name@20', 'ip@30']);
  });

  it('offline(dep) during online(dependent): the dependent is never started and online() rejects with DependencyError', async () => {
    const started = deferred();
    await using fixture = setup([['db'], ['app', ['db']]], {}, {
      online: (ctx: { resource: string; signal: AbortSignal }) =>
        ctx.resource === 'db' ? (started.resolve(), new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))) : undefined,
    });
    const { monitor, of } = fixture;
    const online = rejection(monitor.online('app'));
    await started.promise;
    await settle(monitor.offline('db'));
    const error = await online;
    expect(isDependencyError(error)).toBe(true);
    expect(isStateError((error as { cause: unknown }).cause)).toBe(true);
    expect(of('stateChange').filter((e) => e.resource === 'app')).toEqual([]);
    expect(monitor.getState('db')).toBe('offline');
    await settle(monitor.close());
  });
});

describe('later requests win', () => {
  it('terminate(x) while online(x) waits for its dependencies: x is never started and online() rejects', async () => {
    await using fixture = setup([['db'], ['app', ['db']]], {}, { online: () => new Promise((r) => setTimeout(r, 10)) });
    const { monitor, of } = fixture;
    const online = rejection(monitor.online('app'));
    await vi.advanceTimersByTimeAsync(0);
    await settle(monitor.terminate('app'));
    const error = await settle(online);
    expect(isStateError(error)).toBe(true);
    expect((error as Error).message).toContain('offline() or terminate() was called');
    expect(of('stateChange').filter((e) => e.resource === 'app')).toEqual([]);
    expect(monitor.getState('db')).toBe('online');
    await settle(monitor.close());
  });

  it('a dependency that fails while offline() waits for its dependents is not restarted (its target is offline)', async () => {
    await using fixture = setup([['db'], ['app', ['db']]], { defaults: { ...fast, restartAction: 'restart', restartDelay: 0 } }, {
      offline: (ctx: { resource: string }) => (ctx.resource === 'app' ? new Promise((r) => setTimeout(r, 100)) : undefined),
      isAlive: (ctx: { resource: string }) => ctx.resource !== 'db' || Date.now() < 1_000,
    });
    const { monitor, of } = fixture;
    await settle(monitor.online('app'));
    await vi.advanceTimersByTimeAsync(950);
    const offline = monitor.offline('db'); // app's offline takes 100 ms; db fails at 1000 meanwhile
    await vi.advanceTimersByTimeAsync(100);
    await settle(offline);
    expect(of('stateChange').filter((e) => e.resource === 'db').map((e) => e.to)).toEqual(['online-pending', 'online', 'failed', 'offline']);
    expect(of('restartScheduled')).toEqual([]);
    await settle(monitor.close());
  });
});

describe('following a failed dependency', () => {
  function failing() {
    let dbHealthy = true;
    const m = setup([['db'], ['app', ['db']], ['web', ['app']]], { defaults: { ...fast, restartAction: 'restart', restartDelay: 500 } }, {
      isAlive: (ctx: { resource: string }) => ctx.resource !== 'db' || dbHealthy,
    });
    return { ...m, setDb: (v: boolean) => (dbHealthy = v) };
  }

  it('takes online dependents offline (top-down, reason names it), keeps their target and restart window, and brings them back', async () => {
    await using fixture = failing();
    const { monitor, of, setDb, order } = fixture;
    await settle(monitor.online('web'));
    setDb(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.getState('db')).toBe('failed');
    expect(monitor.getState('app')).toBe('offline');
    expect(monitor.getState('web')).toBe('offline');
    expect(order('offline')).toEqual(['web@1000', 'app@1000']);
    const down = of('stateChange').filter((e) => e.resource !== 'db' && e.at === 1_000);
    expect(down.map((e) => `${e.resource} ${e.from}->${e.to} (${e.reason})`)).toEqual([
      'web online->offline-pending (dependency "db" failed)',
      'web offline-pending->offline (dependency "db" failed)',
      'app online->offline-pending (dependency "db" failed)',
      'app offline-pending->offline (dependency "db" failed)',
    ]);
    for (const name of ['app', 'web']) {
      expect(monitor.inspect(name)).toMatchObject({ target: 'online', restarts: { inWindow: 0, total: 0 }, nextRestartAt: null });
    }
    setDb(true);
    await vi.advanceTimersByTimeAsync(500); // db's restart
    expect(monitor.snapshot().map((s) => `${s.name}:${s.state}`)).toEqual(['db:online', 'app:online', 'web:online']);
    expect(monitor.inspect('db').restarts.total).toBe(1);
    expect(monitor.inspect('app').restarts.total).toBe(0);
    await settle(monitor.close());
  });

  it('leaves a dependent up when its failed dependency is back before the dependent\'s turn to go down came', async () => {
    let dbHealthy = true;
    await using fixture = setup([['db'], ['app', ['db']], ['web', ['app']]], { defaults: { ...fast, restartAction: 'restart', restartDelay: 500 } }, {
      isAlive: (ctx: { resource: string }) => ctx.resource !== 'db' || dbHealthy,
      // web's offline takes 2 s: app's take-down waits for it (dependents first).
      offline: (ctx: { resource: string }) => (ctx.resource === 'web' ? new Promise<void>((resolve) => setTimeout(resolve, 2_000)) : undefined),
    });
    const { monitor, of } = fixture;
    await settle(monitor.online('web'));
    dbHealthy = false;
    await vi.advanceTimersByTimeAsync(1_000); // db fails at 1000; web starts going down
    dbHealthy = true;
    await vi.advanceTimersByTimeAsync(600); // db restarted at 1500, online again
    expect(monitor.getState('db')).toBe('online');
    await vi.advanceTimersByTimeAsync(2_000); // web's offline ended at 3000
    expect(of('stateChange').filter((e) => e.resource === 'app')).toEqual([
      expect.objectContaining({ from: 'offline', to: 'online-pending' }),
      expect.objectContaining({ from: 'online-pending', to: 'online' }),
    ]);
    expect(monitor.snapshot().map((s) => `${s.name}:${s.state}`)).toEqual(['db:online', 'app:online', 'web:online']);
    await settle(monitor.close());
  });

  it('does not bring back a dependent whose target is offline', async () => {
    await using fixture = failing();
    const { monitor, setDb } = fixture;
    await settle(monitor.online('web'));
    await settle(monitor.offline('web'));
    setDb(false);
    await vi.advanceTimersByTimeAsync(1_000);
    setDb(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(monitor.snapshot().map((s) => `${s.name}:${s.state}`)).toEqual(['db:online', 'app:online', 'web:offline']);
    await settle(monitor.close());
  });

  it('abandons (does not fail) a dependent that is online-pending when its dependency fails', async () => {
    const appOnline = deferred();
    await using fixture = setup([['db'], ['app', ['db']]], { defaults: { ...fast, restartAction: 'restart' } }, {
      online: (ctx: { resource: string }) => (ctx.resource === 'app' ? appOnline.promise : undefined),
      isAlive: (ctx: { resource: string }) => ctx.resource !== 'db' || Date.now() < 1_000,
    });
    const { monitor, of } = fixture;
    const online = rejection(monitor.online('app'));
    await vi.advanceTimersByTimeAsync(1_000);
    const error = await online;
    expect(isStateError(error)).toBe(true);
    expect((error as Error).message).toContain('dependency "db" failed');
    await vi.advanceTimersByTimeAsync(1_000); // app's online ignores its signal: terminated after abortGrace
    // Abandoned, not failed; and once db is back (its restart after 500 ms), app is brought back.
    expect(of('stateChange').filter((e) => e.resource === 'app').map((e) => e.to)).toEqual(['online-pending', 'offline-pending', 'offline', 'online-pending']);
    expect(monitor.inspect('app')).toMatchObject({ target: 'online', restarts: { inWindow: 0, total: 0 } });
    appOnline.resolve();
    await settle(monitor.close());
  });

  it('takes a dependent whose restart is scheduled offline, cancelling the restart', async () => {
    await using fixture = setup([['db'], ['app', ['db']]], { defaults: { ...fast, restartAction: 'restart', restartDelay: 5_000 } }, {
      isAlive: (ctx: { resource: string }) => (ctx.resource === 'app' ? Date.now() < 1_000 : Date.now() < 2_000),
    });
    const { monitor } = fixture;
    await settle(monitor.online('app'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.inspect('app')).toMatchObject({ state: 'failed', nextRestartAt: 6_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.inspect('app')).toMatchObject({ state: 'offline', nextRestartAt: null, target: 'online' });
    await settle(monitor.close());
  });

  it('with anyOf, losing one member while another is online changes nothing', async () => {
    await using fixture = setup([['ip-a'], ['ip-b'], ['app', [{ anyOf: ['ip-a', 'ip-b'] }]]], {}, {
      isAlive: (ctx: { resource: string }) => ctx.resource !== 'ip-a',
    });
    const { monitor, of } = fixture;
    await settle(monitor.online('ip-b'));
    await settle(monitor.online('ip-a'));
    await settle(monitor.online('app'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.getState('ip-a')).toBe('failed');
    expect(monitor.getState('app')).toBe('online');
    expect(of('stateChange').filter((e) => e.resource === 'app').map((e) => e.to)).toEqual(['online-pending', 'online']);
    await settle(monitor.close());
  });
});

describe('groups', () => {
  it('onlineGroup brings a group online bottom-up, offlineGroup takes it offline top-down, with groupStateChange events', async () => {
    await using fixture = setup(
      [
        ['ip', [], 'web'],
        ['name', ['ip'], 'web'],
        ['app', ['name'], 'web'],
        ['other', [], 'batch'],
      ],
      {},
      { online: () => new Promise((r) => setTimeout(r, 10)), offline: () => new Promise((r) => setTimeout(r, 10)) },
    );
    const { monitor, order, of } = fixture;
    const events: string[] = [];
    monitor.on('groupStateChange', (e) => events.push(`${e.at} ${e.group} ${e.from}->${e.to}`));
    expect(monitor.groupStatus('web')).toEqual({ name: 'web', state: 'offline', resources: ['ip', 'name', 'app'] });
    await settle(monitor.onlineGroup('web'));
    expect(order('online')).toEqual(['ip@0', 'name@10', 'app@20']);
    expect(monitor.groupStatus('web').state).toBe('online');
    expect(monitor.groupStatus('batch').state).toBe('offline');
    await settle(monitor.offlineGroup('web'));
    expect(order('offline')).toEqual(['app@30', 'name@40', 'ip@50']);
    expect(events).toEqual(['0 web offline->pending', '30 web pending->online', '30 web online->pending', '60 web pending->offline']);
    expect(of('stateChange').every((e) => e.resource !== 'other')).toBe(true);
    await settle(monitor.close());
  });

  it('is partial while some members are online, and failed when a member is failed with no restart coming', async () => {
    await using fixture = setup([['a', [], 'g'], ['b', [], 'g']], {}, { isAlive: (ctx: { resource: string }) => ctx.resource !== 'b' || Date.now() < 1_000 });
    const { monitor } = fixture;
    const events: string[] = [];
    monitor.on('groupStateChange', (e) => events.push(`${e.at} ${e.from}->${e.to}`));
    await settle(monitor.online('a'));
    expect(monitor.groupStatus('g').state).toBe('partial');
    await settle(monitor.online('b'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.groupStatus('g').state).toBe('failed');
    expect(events).toEqual(['0 offline->pending', '0 pending->partial', '0 partial->pending', '0 pending->online', '1000 online->pending', '1000 pending->failed']);
    await settle(monitor.close());
  });

  it('counts a failed member whose restart is coming as pending, and escalated carries the group', async () => {
    await using fixture = setup([['a', [], 'g']], { defaults: { ...fast, restartAction: 'restart-escalate', restartThreshold: 0, restartPeriod: 60_000, retryPeriodOnFailure: 60_000 } }, {
      isAlive: () => Date.now() < 1_000,
    });
    const { monitor, of } = fixture;
    await settle(monitor.online('a'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.groupStatus('g').state).toBe('pending');
    expect(of('escalated')).toMatchObject([{ resource: 'a', group: 'g' }]);
    await settle(monitor.close());
  });

  it('throws UnknownResourceError for a group with no members', async () => {
    await using fixture = setup([['a']]);
    const { monitor } = fixture;
    expect(isUnknownResourceError(thrown(() => monitor.groupStatus('nope')))).toBe(true);
    expect(isUnknownResourceError(await rejection(monitor.onlineGroup('nope')))).toBe(true);
    await settle(monitor.close());
  });
});

describe('setDependencies', () => {
  it('takes an online resource whose new dependencies are not online offline and brings it back under them', async () => {
    await using fixture = setup([['a'], ['b'], ['app', ['a']]]);
    const { monitor, transitions } = fixture;
    await settle(monitor.online('app'));
    await monitor.setDependencies('app', ['b']);
    expect(transitions('app')).toEqual(['0 offline->online-pending', '0 online-pending->online', '0 online->offline-pending', '0 offline-pending->offline', '0 offline->online-pending', '0 online-pending->online']);
    expect(monitor.snapshot().map((s) => `${s.name}:${s.state}`)).toEqual(['a:online', 'b:online', 'app:online']);
    expect(monitor.inspect('app').dependsOn).toEqual(['b']);
    await settle(monitor.close());
  });

  it('leaves an online resource alone when its new dependencies are online', async () => {
    await using fixture = setup([['a'], ['b'], ['app', ['a']]]);
    const { monitor, transitions } = fixture;
    await settle(monitor.online('b'));
    await settle(monitor.online('app'));
    await monitor.setDependencies('app', [{ anyOf: ['a', 'b'] }]);
    expect(transitions('app')).toEqual(['0 offline->online-pending', '0 online-pending->online']);
    await settle(monitor.close());
  });
});

