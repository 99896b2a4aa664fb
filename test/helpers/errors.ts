import { type ConfigError, isConfigError } from 'resmon';

/** What `fn` threw, which must be a ConfigError (else the test fails saying what came instead). */
export function configError(fn: () => unknown): ConfigError {
  let thrown: unknown = 'nothing';
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (!isConfigError(thrown)) throw new Error(`expected a ConfigError, got ${String(thrown)}`, { cause: thrown });
  return thrown;
}
