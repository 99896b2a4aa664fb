import { parseArgs } from 'node:util';

/** A usage error: the message for stderr; the command exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** True when the arguments ask for help (`-h`, `--help`). */
export const wantsHelp = (argv: string[]): boolean => argv.includes('-h') || argv.includes('--help');

/** Parses `<config> [flags]` with node:util's parseArgs; throws UsageError. */
export function parseCommand<const F extends Record<string, { type: 'boolean'; short?: string }>>(
  argv: string[],
  flags: F,
  synopsis: string,
): { file: string; flags: { [K in keyof F]: boolean } } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${synopsis}`);
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError(`expected one config file, got ${parsed.positionals.length}\nusage: ${synopsis}`);
  }
  const values = parsed.values as Record<string, unknown>;
  const out = {} as { [K in keyof F]: boolean };
  for (const key of Object.keys(flags) as (keyof F)[]) out[key] = values[key as string] === true;
  return { file: parsed.positionals[0] as string, flags: out };
}
