import { parseArgs } from 'node:util';

/**
 * The synopsis of each subcommand: `resmon --help` lists them, each command prints its own for
 * `--help` and under a usage error. Kept here, below the dispatcher and the commands, so that
 * neither imports the other for it.
 */
export const SYNOPSIS = {
  run: 'resmon run <config.yaml|json> [--json] [--events LIST] [--verbose] [--control PATH] [--http HOST:PORT]',
  validate: 'resmon validate <config.yaml|json>',
  status: 'resmon status [NAME] [--json] [-c FILE | --control PATH]',
  online: 'resmon online NAME [-c FILE | --control PATH]',
  offline: 'resmon offline NAME [-c FILE | --control PATH]',
  restart: 'resmon restart NAME [-c FILE | --control PATH]',
  terminate: 'resmon terminate NAME [-c FILE | --control PATH]',
  logs: 'resmon logs NAME [-f] [-n N] [--stream stdout|stderr] [-c FILE | --control PATH]',
  reload: 'resmon reload [-c FILE | --control PATH]',
  stop: 'resmon stop [-c FILE | --control PATH]',
  defaults: 'resmon defaults [<config.yaml|json>] [--json]',
  ocf: 'resmon ocf list [--root <dir>] [--json] | resmon ocf info <provider/name|path> [--root <dir>] [--json]',
  'verify-type': 'resmon verify-type <module> [--export <name>] [--properties <file.json>] [--json]',
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

/** Prints `resmon <command>: <message>` on stderr; returns `code` (2, bad usage, by default). */
export function printError(io: CommandIo, command: CommandName, message: string, code = 2): number {
  io.err(`resmon ${command}: ${message}\n`);
  return code;
}

/** `message` and the command's synopsis on the next line: what a {@link UsageError} says. */
export const withUsage = (command: CommandName, message: string): string => `${message}\nusage: ${SYNOPSIS[command]}`;

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
    // node's own text for an unknown flag is about positionals starting with '-': name the known flags instead.
    const unknown = (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec((error as Error).message)?.[1] : undefined;
    const known = Object.entries(flags).map(([name, spec]) => (spec.short ? `-${spec.short}, --${name}` : `--${name}`));
    const message = unknown ? `unknown option ${unknown} (options: ${[...known, '-h, --help'].join(', ')})` : (error as Error).message;
    throw new UsageError(`${message}\nusage: ${synopsis}`);
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
