import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
  status: {
    summary: 'show the status table of a running resmon run, once (--json: the raw status)',
    usage: SYNOPSIS.status,
    load: async () => (await import('./client.js')).clientCommand('status'),
  },
  online: {
    summary: 'bring a resource of a running resmon run online',
    usage: SYNOPSIS.online,
    load: async () => (await import('./client.js')).clientCommand('online'),
  },
  offline: {
    summary: 'take a resource offline (it stays offline until online or restart)',
    usage: SYNOPSIS.offline,
    load: async () => (await import('./client.js')).clientCommand('offline'),
  },
  restart: {
    summary: 'offline then online (not counted as a failure in the restart window)',
    usage: SYNOPSIS.restart,
    load: async () => (await import('./client.js')).clientCommand('restart'),
  },
  terminate: {
    summary: 'the hard stop: kill a resource at once (its process group with SIGKILL)',
    usage: SYNOPSIS.terminate,
    load: async () => (await import('./client.js')).clientCommand('terminate'),
  },
  logs: {
    summary: "print a process resource's last output lines; -f follows (across rotations)",
    usage: SYNOPSIS.logs,
    load: async () => (await import('./client.js')).logsMain,
  },
  reload: {
    summary: 'reload the config file of a running resmon run (nothing changes if it has errors)',
    usage: SYNOPSIS.reload,
    load: async () => (await import('./client.js')).clientCommand('reload'),
  },
  stop: {
    summary: 'stop a running resmon run: every resource offline, then it exits 0',
    usage: SYNOPSIS.stop,
    load: async () => (await import('./client.js')).clientCommand('stop'),
  },
  defaults: {
    summary: 'print the policy defaults resmon run applies, and where each comes from',
    usage: SYNOPSIS.defaults,
    load: async () => (await import('./defaults.js')).defaultsMain,
  },
  ocf: {
    summary: 'list the Pacemaker OCF resource agents installed, or show one agent\'s parameters and actions',
    usage: SYNOPSIS.ocf,
    load: async () => (await import('./ocf.js')).ocfMain,
  },
  'verify-type': {
    summary: 'run the conformance suite (resmon/testing) against a resource type module',
    usage: SYNOPSIS['verify-type'],
    load: async () => (await import('./verify-type.js')).verifyTypeMain,
  },
};

/** The version in resmon's package.json (found upwards from this module, in src/ or dist/). */
export function version(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'resmon' && pkg.version) return pkg.version;
    } catch {
      // not here
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

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
    'The client commands (status … stop) find the control socket from -c FILE (.resmon/control.sock beside it,',
    'or its control.socket), --control PATH, or ./resmon.yaml (or .yml, .json) or ./.resmon/control.sock here.',
    '',
    'Exit codes: 0 done; 1 invalid config (validate, run), a failed conformance case (verify-type) or a failed action (the',
    'reason is printed); 2 bad usage; 3 no resmon run found (saying where it looked); 130 killed by a second signal.',
    '',
    'resmon --version prints the version; resmon COMMAND --help the flags of a command.',
  ].join('\n');
}

/** Runs `resmon <argv>`; resolves with the exit code. */
export async function main(argv: string[], io: CommandIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-V' || name === '--version' || name === 'version') {
    io.out(`resmon ${version()}\n`);
    return 0;
  }
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
