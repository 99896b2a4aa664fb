import { type CommandIo, defaultIo, SYNOPSIS } from './args.js';

/**
 * The `resmon` command: a dispatcher over subcommands. Each subcommand is a module exporting
 * `(argv: string[]) => Promise<number>` (the exit code), loaded only when it runs; adding one
 * is one more entry in {@link commands}.
 */

/** A subcommand: takes the arguments after its name, resolves with the exit code. */
export type Command = (argv: string[]) => Promise<number>;

/** What the dispatcher knows of a subcommand. */
export interface CommandEntry {
  /** One line for `resmon --help`. */
  readonly summary: string;
  /** Its synopsis. */
  readonly usage: string;
  /** Imports the subcommand's module. */
  load(): Promise<Command>;
}

/** The subcommands, in the order `resmon --help` lists them. */
export const commands: Readonly<Record<string, CommandEntry>> = {
  run: {
    summary: 'bring every resource of a config file online and keep it there',
    usage: SYNOPSIS.run,
    load: async () => (await import('./run.js')).runMain,
  },
  validate: {
    summary: "check a config file and every resource's properties and policy, starting nothing",
    usage: SYNOPSIS.validate,
    load: async () => (await import('./validate.js')).validateMain,
  },
  ocf: {
    summary: 'list the Pacemaker OCF resource agents installed, or show one agent\'s parameters and actions',
    usage: SYNOPSIS.ocf,
    load: async () => (await import('./ocf.js')).ocfMain,
  },
  'check-type': {
    summary: 'run the conformance suite (resmon/testing) against a resource type module',
    usage: SYNOPSIS['check-type'],
    load: async () => (await import('./check-type.js')).checkTypeMain,
  },
};

/** The text of `resmon --help`. */
export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'resmon: a resource monitor (online, offline, terminate, looksAlive, isAlive) for processes and endpoints',
    '',
    'Usage:',
    ...Object.values(commands).map((c) => `  ${c.usage}`),
    '',
    'Commands:',
    ...lines,
    '',
    'Exit codes: 0 done, 1 invalid config (validate, run) or a failed check (check-type), 2 bad usage, 130 killed by a second signal.',
  ].join('\n');
}

/** Runs `resmon <argv>`; resolves with the exit code. */
export async function main(argv: string[], io: CommandIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help' || name === 'help') {
    io.out(`${usage()}\n`);
    return 0;
  }
  if (name === undefined) {
    io.err(`${usage()}\n`);
    return 2;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.err(`resmon: unknown command "${name}" (commands: ${Object.keys(commands).join(', ')}); see resmon --help\n`);
    return 2;
  }
  return (await command.load())(rest);
}
