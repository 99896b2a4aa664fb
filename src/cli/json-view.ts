import type { Logger } from '../logger.js';
import { BoundedWriter, type Sink } from './bounded.js';
import type { ResourceMonitor } from '../monitor.js';
import { MONITOR_EVENTS } from '../events.js';
import { logArgs, type View } from './view.js';

/** Turns values JSON cannot hold into ones it can (Errors become `{ name, message }`). */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  return value;
}

/**
 * One JSON object per line for every event: the monitor's events as `{ "event": "stateChange",
 * "resource": …, "at": …, … }`, log lines as `{ "event": "log", "level": …, "msg": … }` (the
 * processes' output among them, with `stream`), and `resmon run`'s own notes (`started`,
 * `signal`, `exit`).
 *
 * Back-pressure: at most `limit` bytes (1 MiB) wait in the output stream. While the reader is
 * further behind, lines are dropped and counted; once it catches up, one line
 * `{ "event": "dropped", "count": N, "events": { "log": n, "check": m, … } }` says what was lost.
 */
export class JsonView implements View {
  readonly logger: Logger;
  private readonly out: BoundedWriter;
  private readonly only: ReadonlySet<string> | null;

  constructor(sink: Sink, verbose: boolean, options: { limit?: number; events?: readonly string[] } = {}) {
    this.out = new BoundedWriter(
      sink,
      (d) => `${JSON.stringify({ event: 'dropped', at: Date.now(), time: new Date().toISOString(), count: d.count, events: d.kinds, message: `${d.count} lines dropped: the reader was behind` })}\n`,
      options.limit,
    );
    this.only = options.events ? new Set(options.events) : null;
    const at =
      (level: keyof Logger) =>
      (...args: unknown[]) => {
        const { fields, msg } = logArgs(args);
        this.line({ event: 'log', level, at: Date.now(), ...fields, msg });
      };
    this.logger = { debug: verbose ? at('debug') : () => {}, info: at('info'), warn: at('warn'), error: at('error') };
  }

  attach(monitor: ResourceMonitor): void {
    for (const event of MONITOR_EVENTS) {
      monitor.on(event, (payload: object) => this.line({ event, ...payload }));
    }
  }

  note(event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.line({ event, at: Date.now(), ...fields, message });
  }

  stop(): void {}

  /** Lines dropped so far because the reader was behind. */
  get dropped(): number {
    return this.out.droppedTotal;
  }

  private line(object: Record<string, unknown>): void {
    const event = String(object.event);
    if (this.only && !this.only.has(event)) return;
    const at = typeof object.at === 'number' ? object.at : Date.now();
    const withTime = { event, at, time: new Date(at).toISOString(), ...object };
    let text: string;
    try {
      text = JSON.stringify(withTime, replacer);
    } catch {
      text = JSON.stringify({ event, at, time: withTime.time, message: 'unserialisable event' });
    }
    this.out.write(`${text}\n`, event);
  }
}
