import type { Logger } from '../logger.js';
import type { ResourceMonitor } from '../monitor.js';
import { logArgs, MONITOR_EVENTS, type View } from './view.js';

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
 */
export class JsonView implements View {
  readonly logger: Logger;

  constructor(
    private readonly write: (line: string) => void,
    verbose: boolean,
  ) {
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

  private line(object: Record<string, unknown>): void {
    let text: string;
    try {
      text = JSON.stringify(object, replacer);
    } catch {
      text = JSON.stringify({ event: object.event, at: object.at, message: 'unserialisable event' });
    }
    this.write(`${text}\n`);
  }
}
