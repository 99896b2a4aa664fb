import { DEFAULT_PROCESSING, type ResourceContext, type ResourceType } from 'resmon';
import { CASE_NAMES, verifyResourceType, type ConformanceReport } from 'resmon/testing';
import { describe, expect, it } from 'vitest';

type Props = { port: number };
type Handle = { port: number; up: boolean };

/** An in-memory type that takes live changes: the port moves at once; port 13 is refused. */
function liveType(override: Partial<ResourceType<Props, Handle>> = {}): ResourceType<Props, Handle> {
  return {
    name: 'live',
    validate(p) {
      const port = (p as { port?: unknown } | null)?.port;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 0) throw new Error('port must be an integer >= 0');
      return { port };
    },
    open: (ctx) => ({ port: ctx.properties.port, up: false }),
    online: (ctx) => {
      ctx.handle.port = ctx.properties.port;
      ctx.handle.up = true;
    },
    offline: (ctx) => void (ctx.handle.up = false),
    terminate: (ctx) => void (ctx.handle.up = false),
    isAlive: (ctx) => ctx.handle.up && ctx.handle.port === ctx.properties.port,
    applyProperties(ctx, next) {
      if (next.port === 13) throw new Error('port 13 is refused');
      ctx.handle.port = next.port;
    },
    control(ctx, code) {
      if (code === 'port') return ctx.handle?.port ?? null;
      return DEFAULT_PROCESSING;
    },
    typeControl: (code) => (code === 'version' ? '1.0' : DEFAULT_PROCESSING),
    ...override,
  };
}

const LIVE_CHECKS = ['applyProperties', 'refuses', 'control', 'typeControl'];
const only = LIVE_CHECKS;
const byName = (report: ConformanceReport, part: string) => report.cases.find((c) => c.name.includes(part));

describe('the conformance cases of live changes and control codes', () => {
  it('pass for a type that applies, refuses and answers as the contract says', async () => {
    const report = await verifyResourceType(liveType(), {
      properties: { port: 1 },
      changedProperties: { port: 2 },
      refusedProperties: { port: 13 },
      controlCodes: [{ code: 'port' }],
      only,
    });
    expect(report.cases.map((c) => [c.name, c.passed, c.skipped, c.reason, c.warning])).toEqual(
      CASE_NAMES.filter((n) => only.some((p) => n.includes(p))).map((n) => [n, true, false, null, null]),
    );
    expect(report.cases).toHaveLength(6);
  });

  it("verifies a 'stored' change through the next online", async () => {
    const type = liveType({ applyProperties: () => 'stored' });
    const report = await verifyResourceType(type, { properties: { port: 1 }, changedProperties: { port: 2 }, only: ['applyProperties settles'] });
    expect(report.passed).toBe(true);
  });

  it('are skipped, saying why, for a type without applyProperties, control and typeControl', async () => {
    const { applyProperties: _a, control: _c, typeControl: _t, ...plain } = liveType();
    const report = await verifyResourceType(plain as ResourceType<Props, Handle>, { properties: { port: 1 }, only });
    expect(report.passed).toBe(true);
    expect(report.cases.map((c) => c.reason)).toEqual([
      'the type has no applyProperties()',
      'the type has no applyProperties()',
      'the type has no applyProperties()',
      'the type has no control()',
      'the type has no control()',
      'the type has no typeControl()',
    ]);
    const noRefused = await verifyResourceType(liveType(), { properties: { port: 1 }, only: ['refuses'] });
    expect(noRefused.cases[0]?.reason).toBe('no refusedProperties in the options');
  });

  it('fail an applyProperties that rejects valid properties, returns something else, or ignores its signal', async () => {
    const rejects = await verifyResourceType(liveType({ applyProperties: () => Promise.reject(new Error('nope')) }), { properties: { port: 1 }, only: ['applyProperties settles'] });
    expect(byName(rejects, 'applyProperties settles')?.reason).toBe('applyProperties rejected valid properties: Error: nope');
    const odd = await verifyResourceType(liveType({ applyProperties: () => 'done' as never }), { properties: { port: 1 }, only: ['applyProperties settles'] });
    expect(byName(odd, 'applyProperties settles')?.reason).toMatch(/applyProperties returned "done"; return nothing \(applied\) or 'stored'/);
    const deaf = await verifyResourceType(liveType({ applyProperties: () => new Promise((resolve) => setTimeout(resolve, 400)) }), {
      properties: { port: 1 },
      only: ['aborted applyProperties'],
      limits: { abortGrace: 100 },
    });
    expect(byName(deaf, 'aborted applyProperties')?.reason).toMatch(/applyProperties went on for \d+ ms after its signal aborted; it must settle within abortGrace \(100 ms\)/);
  });

  it('fail a type that accepts refusedProperties, or breaks when it refuses', async () => {
    const accepts = await verifyResourceType(liveType({ applyProperties: () => undefined }), { properties: { port: 1 }, refusedProperties: { port: 13 }, only: ['refuses'] });
    expect(accepts.cases[0]?.reason).toMatch(/applyProperties accepted options\.refusedProperties/);
    const breaks = await verifyResourceType(
      liveType({
        applyProperties(ctx, next) {
          ctx.handle.port = next.port; // half-applied before it refuses
          throw new Error('refused');
        },
      }),
      { properties: { port: 1 }, refusedProperties: { port: 13 }, only: ['refuses'] },
    );
    expect(breaks.cases[0]?.reason).toMatch(/isAlive returned false after applyProperties refused a change/);
    const invalid = await verifyResourceType(liveType(), { properties: { port: 1 }, refusedProperties: { port: -1 }, only: ['refuses'] });
    expect(invalid.cases[0]?.reason).toMatch(/validate rejected options\.refusedProperties/);
  });

  it('fail a control that answers an unknown code, hangs, or ignores its signal; warn about an answer that cannot be cloned', async () => {
    const answersAll = await verifyResourceType(liveType({ control: () => 'ok' }), { properties: { port: 1 }, only: ['control answers'] });
    expect(answersAll.cases[0]?.reason).toMatch(/control answered the unknown code "resmon-conformance-unknown-code" with "ok"; return DEFAULT_PROCESSING/);
    const hangs = await verifyResourceType(liveType({ control: (ctx: ResourceContext) => (ctx as unknown as { x: number }).x === 1 || new Promise(() => {}) }), {
      properties: { port: 1 },
      only: ['control answers'],
      limits: { deadlockTimeout: 100 },
    });
    expect(hangs.cases[0]?.reason).toBe('control did not settle within deadlockTimeout (100 ms)');
    const fn = await verifyResourceType(liveType({ control: (_ctx, code) => (code === 'fn' ? () => 1 : DEFAULT_PROCESSING) }), {
      properties: { port: 1 },
      controlCodes: [{ code: 'fn' }],
      only: ['control answers'],
    });
    expect(fn.cases[0]?.passed).toBe(true);
    expect(fn.cases[0]?.warning).toMatch(/control\("fn"\) answered with a value that cannot be structured-cloned/);
  });

  it('fail a typeControl that answers an unknown code with a value', async () => {
    const report = await verifyResourceType(liveType({ typeControl: () => 42 }), { properties: { port: 1 }, only: ['typeControl'] });
    expect(report.cases[0]?.reason).toMatch(/typeControl answered the unknown code "resmon-conformance-unknown-code" with 42/);
  });

  it('rejects malformed controlCodes with a ConfigError', async () => {
    await expect(verifyResourceType(liveType(), { controlCodes: [{ code: '' }] })).rejects.toThrow(/options\.controlCodes must be an array of/);
  });
});
