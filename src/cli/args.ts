import { parseArgs } from 'node:util';

/**
 * The synopsis of each subcommand: `resmon --help` lists them, each command prints its own for
 * `--help` and under a usage error. Kept here, below the dispatcher and the commands, so that
 * neither imports the other for it.
 */
export const SYNOPSIS = {
  run: 'resmon run <config.yaml|json> [--json] [--verbose]',
  validate: 'resmon validate <config.yaml|json>',
  'check-type': 'resmon check-type <module> [--export <name>] [--properties <file.json>] [--json]',
} as const;

/** A subcommand's name. */
export type CommandName = keyof typeof SYNOPSIS;

/** Where a command writes (stdout and stderr by default; tests pass their own). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** process.stdout and process.stderr. */
export const defaultIo: CommandIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

/** Prints `usage: <synopsis>` (and `about`, when given) on stdout for `--help`; returns the exit code 0. */
export function printHelp(io: CommandIo, command: CommandName, about?: string): number {
  io.out(`usage: ${SYNOPSIS[command]}\n${about ? `\n${about}\n` : ''}`);
  return 0;
}

/** Prints `resmon <command>: <message>` and the synopsis on stderr; returns the exit code 2. */
export function printUsageError(io: CommandIo, command: CommandName, message: string): number {
  io.err(`resmon ${command}: ${message}\nusage: ${SYNOPSIS[command]}\n`);
  return 2;
}

/** Prints `resmon <command>: <message>` on stderr; returns `code`. */
export function printError(io: CommandIo, command: CommandName, message: string, code: number): number {
  io.err(`resmon ${command}: ${message}\n`);
  return code;
}

/** A usage error: the message for stderr; the command exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** True when the arguments ask for help (`-h`, `--help`). */
export const wantsHelp = (argv: string[]): boolean => argv.includes('-h') || argv.includes('--help');

/** Parses `<config> [flags]` with node:util's parseArgs; throws UsageError (print it with {@link printUsageError}). */
export function parseCommand<const F extends Record<string, { type: 'boolean'; short?: string }>>(
  argv: string[],
  flags: F,
): { file: string; flags: { [K in keyof F]: boolean } } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError(`expected one config file, got ${parsed.positionals.length}`);
  }
  const values = parsed.values as Record<string, unknown>;
  const out = {} as { [K in keyof F]: boolean };
  for (const key of Object.keys(flags) as (keyof F)[]) out[key] = values[key as string] === true;
  return { file: parsed.positionals[0] as string, flags: out };
}
