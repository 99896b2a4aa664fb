/**
 * The plugin of the model-based suite: a resource type whose every entry point behaves as the
 * scenario's script says (resolve, return false, throw, reject with a non-Error or a hostile value,
 * hang, settle only after abandonment, report failure or progress at random moments), and records
 * each call as a span of the trace.
 */
import { DEFAULT_PROCESSING, type EntryPoint, type ResourceContext, type ResourceType } from 'resmon';
import { hostile } from '../helpers/hostile.js';
import { b, type Behaviour, type Scenario } from './scenario.js';
import { NON_ERROR, PluginError, type Span, type Trace } from './trace.js';

/** The `model` resource type for one scenario's run, recording into `trace`. */
export function modelType(sc: Scenario, trace: Trace): ResourceType {
  const counters = new Map<string, number>();
  const probeCounters = new Map<string, number>();
  const isCheck = (ep: EntryPoint) => ep === 'isAlive' || ep === 'looksAlive';
  const pass = (ep: EntryPoint, beh: Behaviour): unknown => {
    if (ep === 'open') return { handle: true };
    if (isCheck(ep)) return true;
    // applyProperties: applied, or 'stored'; control: an answer, or the monitor's default processing.
    if (ep === 'applyProperties') return beh.lag >= 150 ? 'stored' : undefined;
    if (ep === 'control') return beh.lag === 20 ? DEFAULT_PROCESSING : 'answer';
    return undefined;
  };

  const entry = (ep: EntryPoint) => (ctx: ResourceContext) => {
    const probes = ep === 'isAlive' ? sc.probes?.[ctx.resource] : undefined;
    const script = probes ?? sc.scripts[ctx.resource] ?? [b('ok')];
    const count = probes ? probeCounters : counters;
    const i = count.get(ctx.resource) ?? 0;
    count.set(ctx.resource, i + 1);
    const beh = trace.faultsOff ? b('ok') : (script[i % script.length] as Behaviour);
    const at = trace.now();
    const span: Span = {
      id: trace.spans.length,
      resource: ctx.resource,
      entryPoint: ep,
      gen: trace.stateOf(ctx.resource).gen,
      behaviour: beh,
      startSeq: trace.next(),
      startAt: at,
      endSeq: null,
      endAt: null,
      outcome: null,
      abortSeq: null,
      abortAt: null,
      lastProgressAt: at,
      v: (ctx.properties as { v?: number } | null)?.v ?? -1,
    };
    trace.spans.push(span);
    trace.lastCtx.set(ctx.resource, { ctx, span });
    if (ctx.signal.aborted) {
      span.abortSeq = span.startSeq;
      span.abortAt = at;
    } else {
      ctx.signal.addEventListener(
        'abort',
        () => {
          span.abortSeq = trace.next();
          span.abortAt = trace.now();
        },
        { once: true },
      );
    }
    const settle = (outcome: 'ok' | 'fail') => {
      if (span.endSeq !== null) return;
      span.endSeq = trace.next();
      span.endAt = trace.now();
      span.outcome = outcome;
    };
    const report = () => {
      trace.reports.push({ seq: trace.next(), at: trace.now(), span });
      ctx.reportFailure(beh.hostile ? hostile(beh.hostile) : beh.kind === 'rejectValue' ? NON_ERROR : new PluginError(`reported by ${ep}`));
    };
    if (beh.reportFailureAfter !== null) {
      if (beh.reportFailureAfter === 0) report();
      else setTimeout(report, beh.reportFailureAfter);
    }
    const value = (): unknown => {
      if (!isCheck(ep)) return pass(ep, beh);
      if (beh.kind === 'false') return false;
      if (beh.kind === 'nonBool') return 'yes';
      return true;
    };
    const outcomeOfValue = (): 'ok' | 'fail' => (isCheck(ep) && (beh.kind === 'false' || beh.kind === 'nonBool') ? 'fail' : 'ok');
    switch (beh.kind) {
      case 'throw':
        settle('fail');
        throw new PluginError(`${ep} threw`);
      case 'throwValue':
        settle('fail');
        throw NON_ERROR;
      case 'throwHostile':
        settle('fail');
        throw hostile(beh.hostile ?? 'throwingGetters');
      case 'rejectHostile':
        return new Promise((_, reject) => {
          setTimeout(() => {
            settle('fail');
            reject(hostile(beh.hostile ?? 'revokedProxy'));
          }, beh.delay);
        });
      case 'returnHostile': {
        // A value whose `then` cannot be read counts as a rejection (as a promise resolved with it would).
        // applyProperties and control answer the caller: they return what the live-change checks expect.
        if (ep === 'applyProperties' || ep === 'control') {
          settle('ok');
          return pass(ep, beh);
        }
        const v = hostile(beh.hostile ?? 'throwingPrototype');
        let thenable = true;
        try {
          void (v as { then?: unknown }).then;
        } catch {
          thenable = false;
        }
        const outcome = !thenable || isCheck(ep) ? 'fail' : 'ok';
        if (beh.delay === 0) {
          settle(outcome);
          return v;
        }
        return new Promise((resolve) => {
          setTimeout(() => {
            settle(outcome);
            resolve(v);
          }, beh.delay);
        });
      }
      case 'hang':
        return new Promise(() => {});
      case 'settleAfterAbort':
        return new Promise((resolve) => {
          const go = () =>
            setTimeout(() => {
              settle('ok');
              resolve(pass(ep, beh));
            }, beh.lag);
          if (ctx.signal.aborted) go();
          else ctx.signal.addEventListener('abort', go, { once: true });
        });
      case 'progress': {
        const every = Math.max(1, Math.floor(sc.policy.pendingTimeout * 0.6));
        return new Promise((resolve) => {
          let n = 0;
          const tick = () => {
            if (n++ < 3) {
              if (!ctx.signal.aborted && (ep === 'online' || ep === 'offline')) span.lastProgressAt = trace.now();
              ctx.reportProgress(`step ${n}`);
              setTimeout(tick, every);
            } else {
              settle('ok');
              resolve(pass(ep, beh));
            }
          };
          setTimeout(tick, every);
        });
      }
      case 'reject':
      case 'rejectValue':
        return new Promise((_, reject) => {
          setTimeout(() => {
            settle('fail');
            reject(beh.kind === 'reject' ? new PluginError(`${ep} rejected`) : NON_ERROR);
          }, beh.delay);
        });
      default:
        if (beh.delay === 0) {
          settle(outcomeOfValue());
          return value();
        }
        return new Promise((resolve) => {
          setTimeout(() => {
            settle(outcomeOfValue());
            resolve(value());
          }, beh.delay);
        });
    }
  };

  const type: Record<string, unknown> = {
    name: 'model',
    online: entry('online'),
    offline: entry('offline'),
    terminate: entry('terminate'),
    isAlive: entry('isAlive'),
  };
  if (sc.shape.open) type.open = entry('open');
  if (sc.shape.looksAlive) type.looksAlive = entry('looksAlive');
  if (sc.shape.close) type.close = entry('close');
  if (sc.shape.apply) type.applyProperties = entry('applyProperties');
  if (sc.shape.control) type.control = entry('control');
  type.validate = (p: unknown) => {
    const v = (p as { v?: unknown } | null)?.v;
    if (typeof v !== 'number' || v < 0) throw new Error('v must be a number >= 0');
    return { v };
  };
  return type as unknown as ResourceType;
}
