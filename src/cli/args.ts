import { parseArgs } from 'node:util';

/** A usage error: the message for stderr; the command exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** True when the arguments ask for help (`-h`, `--help`). */
export const wantsHelp = (argv: string[]): boolean => argv.includes('-h') || argv.includes('--help');

/** A flag of a subcommand: a switch, or one taking a value. */
export type FlagSpec = { type: 'boolean'; short?: string } | { type: 'string'; short?: string };

/** The parsed value of each flag: a boolean for switches, the string (or undefined) for the rest. */
export type FlagValues<F extends Record<string, FlagSpec>> = {
  [K in keyof F]: F[K] extends { type: 'boolean' } ? boolean : string | undefined;
};

/**
 * Parses `[flags] <positionals>` with node:util's parseArgs; throws UsageError. `count` is how
 * many positionals are expected: a number, or `[min, max]`.
 */
export function parseFlags<const F extends Record<string, FlagSpec>>(
  argv: string[],
  flags: F,
  synopsis: string,
  count: number | [number, number],
  what = 'argument',
): { positionals: string[]; flags: FlagValues<F> } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${synopsis}`);
  }
  const [min, max] = typeof count === 'number' ? [count, count] : count;
  const n = parsed.positionals.length;
  if (n < min || n > max) {
    const expected = min === max ? (min === 1 ? 'one' : String(min)) : `${min} to ${max}`;
    throw new UsageError(`expected ${expected} ${what}${max === 1 ? '' : 's'}, got ${n}\nusage: ${synopsis}`);
  }
  const values = parsed.values as Record<string, unknown>;
  const out = {} as Record<string, unknown>;
  for (const [key, spec] of Object.entries(flags)) out[key] = spec.type === 'boolean' ? values[key] === true : (values[key] as string | undefined);
  return { positionals: parsed.positionals, flags: out as FlagValues<F> };
}

/** Parses `<config> [flags]`; throws UsageError. */
export function parseCommand<const F extends Record<string, FlagSpec>>(
  argv: string[],
  flags: F,
  synopsis: string,
): { file: string; flags: FlagValues<F> } {
  const { positionals, flags: values } = parseFlags(argv, flags, synopsis, 1, 'config file');
  return { file: positionals[0] as string, flags: values };
}
