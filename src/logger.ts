import { isError } from './errors.js';

/**
 * A pino-style logger: `logger.info(msg)` or `logger.info({ some: 'fields' }, msg)`. pino,
 * bunyan-style loggers and `console` all fit.
 */
export interface Logger {
  /** State changes and ignored late reports. */
  debug(...args: unknown[]): void;
  /** What plugins log at info through `ctx.log`. */
  info(...args: unknown[]): void;
  /** Failures, deadlines, a spent restart threshold. */
  warn(...args: unknown[]): void;
  /** A terminate that failed, a listener that threw, a host killed. */
  error(...args: unknown[]): void;
}

const noop = () => {};

/** The default logger: says nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * The same logger, except that a call that throws (a serializer that reads a hostile error's
 * getters, a closed destination) is dropped: logging never breaks the monitor.
 */
export function neverThrowing(logger: Logger): Logger {
  if (logger === silentLogger) return silentLogger;
  const wrap =
    (level: keyof Logger) =>
    (...args: unknown[]) => {
      try {
        logger[level](...args);
      } catch {
        // Dropped: see above.
      }
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

/**
 * A logger whose every line carries `bindings` (merged into a leading object argument, or
 * added as one), the way pino's `child()` does. Never throws (see {@link neverThrowing}).
 */
export function tagged(logger: Logger, bindings: Record<string, unknown>): Logger {
  if (logger === silentLogger) return silentLogger;
  const wrap =
    (level: keyof Logger) =>
    (...args: unknown[]) => {
      try {
        const [first, ...rest] = args;
        const error = isError(first);
        if (typeof first === 'object' && first !== null && !error && !Array.isArray(first)) {
          logger[level]({ ...bindings, ...first }, ...rest);
        } else if (error) {
          logger[level]({ ...bindings, err: first }, ...rest);
        } else {
          logger[level](bindings, ...args);
        }
      } catch {
        // Dropped: logging never breaks the monitor (a hostile argument, a throwing logger).
      }
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
