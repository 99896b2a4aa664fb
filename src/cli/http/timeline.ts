import type { CheckEvent, StateChangeEvent } from '../../events.js';
import type { ResourceMonitor } from '../../monitor.js';
import type { ResourceState } from '../../types.js';

/** A stretch of time a resource spent in one state, from `start` until the next segment's start (or now). */
export interface Segment {
  state: ResourceState;
  start: number;
}

/** Something to mark on a resource's timeline. */
export interface Mark {
  at: number;
  /** `failure`: the resource failed; `restart`: a restart or retry began; `check`: a check failed without failing the resource. */
  kind: 'failure' | 'restart' | 'check';
  text: string;
}

/** One resource's recent history, as `GET /v1/timeline` answers it. */
export interface ResourceTimeline {
  name: string;
  segments: Segment[];
  marks: Mark[];
}

const MAX_ENTRIES = 2_000;

/**
 * Each resource's states and marks over the last `windowMs` (an hour), kept from the monitor's
 * events, for the status page's timelines. Bounded: older entries are dropped, and at most
 * 2,000 segments and marks per resource are kept.
 */
export class Timeline {
  private readonly byName = new Map<string, ResourceTimeline>();
  private readonly onState: (e: StateChangeEvent) => void;
  private readonly onCheck: (e: CheckEvent) => void;

  constructor(
    private readonly monitor: ResourceMonitor,
    readonly windowMs = 3_600_000,
  ) {
    for (const s of monitor.snapshot()) this.byName.set(s.name, { name: s.name, segments: [{ state: s.state, start: s.since }], marks: [] });
    this.onState = (e) => {
      const t = this.of(e.resource, e.from, e.at);
      t.segments.push({ state: e.to, start: e.at });
      if (e.to === 'failed') t.marks.push({ at: e.at, kind: 'failure', text: e.reason });
      if (e.from === 'failed' && e.to === 'online-pending') t.marks.push({ at: e.at, kind: 'restart', text: e.reason });
      this.prune(t, e.at);
    };
    this.onCheck = (e) => {
      if (e.ok) return;
      const t = this.of(e.resource, null, e.at);
      t.marks.push({ at: e.at, kind: 'check', text: `${e.kind} failed${e.reason ? `: ${e.reason}` : ''}` });
      this.prune(t, e.at);
    };
    monitor.on('stateChange', this.onState);
    monitor.on('check', this.onCheck);
  }

  private of(name: string, state: ResourceState | null, at: number): ResourceTimeline {
    let t = this.byName.get(name);
    if (!t) {
      t = { name, segments: state ? [{ state, start: at }] : [], marks: [] };
      this.byName.set(name, t);
    }
    return t;
  }

  private prune(t: ResourceTimeline, now: number): void {
    const from = now - this.windowMs;
    // Keep the segment in force at the window's start.
    let drop = 0;
    while (drop + 1 < t.segments.length && (t.segments[drop + 1] as Segment).start <= from) drop++;
    if (t.segments.length - drop > MAX_ENTRIES) drop = t.segments.length - MAX_ENTRIES;
    if (drop > 0) t.segments.splice(0, drop);
    let dropMarks = 0;
    while (dropMarks < t.marks.length && (t.marks[dropMarks] as Mark).at < from) dropMarks++;
    if (t.marks.length - dropMarks > MAX_ENTRIES) dropMarks = t.marks.length - MAX_ENTRIES;
    if (dropMarks > 0) t.marks.splice(0, dropMarks);
  }

  /** Every current resource's timeline, in the monitor's order (resources removed meanwhile are left out). */
  get(now: number): ResourceTimeline[] {
    const out: ResourceTimeline[] = [];
    if (this.monitor.isClosed()) return out;
    for (const s of this.monitor.snapshot()) {
      const t = this.of(s.name, s.state, s.since);
      this.prune(t, now);
      out.push({ name: t.name, segments: [...t.segments], marks: [...t.marks] });
    }
    const present = new Set(out.map((t) => t.name));
    for (const name of this.byName.keys()) if (!present.has(name)) this.byName.delete(name);
    return out;
  }

  /** Stops recording. */
  stop(): void {
    this.monitor.off('stateChange', this.onState);
    this.monitor.off('check', this.onCheck);
  }
}
