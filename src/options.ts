import { ConfigError } from './errors.js';

/**
 * Checks the options object of a function that takes one (`collect()`, `instrument()`,
 * `healthHandler()`): an object whose every key is in `known`. Throws a `ConfigError` naming
 * `options` or `options.<key>`, with the known keys, in the context `context` (the function's
 * name, e.g. `'collect()'`).
 */
export function assertKnownOptions(options: unknown, known: readonly string[], context: string): void {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', options, 'must be an object', { context });
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ConfigError(`options.${key}`, (options as Record<string, unknown>)[key], `is not an option (known: ${known.join(', ')})`, { context });
    }
  }
}
