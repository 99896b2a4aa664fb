import { reasonOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResourceMonitor } from '../monitor.js';

/** How `resmon run` shows what happens: a live table on a terminal, JSON lines otherwise. */
export interface View {
  /** The monitor's logger (entry points' logs and the processes' output arrive here). */
  readonly logger: Logger;
  /** Starts showing the monitor's events. */
  attach(monitor: ResourceMonitor): void;
  /** Something `resmon run` itself did: `started`, `signal`, `exit`… */
  note(event: string, message: string, fields?: Record<string, unknown>): void;
  /** Stops showing (releases timers); the last word is written. */
  stop(): void;
}


/** Splits pino-style logger arguments into fields and a message. */
export function logArgs(args: unknown[]): { fields: Record<string, unknown>; msg: string } {
  const [first, ...rest] = args;
  if (typeof first === 'object' && first !== null && !(first instanceof Error) && !Array.isArray(first)) {
    return { fields: first as Record<string, unknown>, msg: rest.map(text).join(' ') };
  }
  return { fields: {}, msg: args.map(text).join(' ') };
}

/** A logger argument as text: a string as it is, anything else as resmon describes a foreign value. */
const text = (value: unknown): string => (typeof value === 'string' ? value : reasonOf(value));
