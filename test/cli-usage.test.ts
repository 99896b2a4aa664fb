import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MONITOR_EVENTS } from 'resmon';
import { parseFlags, UsageError } from '../src/cli/args.js';
import { findSocket } from '../src/cli/client.js';
import { runMain } from '../src/cli/run.js';

// Bad usage of resmon run is refused before the config file is even read: exit 2 and a line that
// names what is wrong and what is allowed. (No file exists here: reaching it would be exit 1.)
describe('resmon run: bad flags exit 2 and say what is allowed', () => {
  let stderr: string[];
  beforeEach(() => {
    stderr = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  it('--events with a misspelt event name (it used to run and drop every line of that event)', async () => {
    expect(await runMain(['--events', 'stateChang,escalated', '/nonexistent/resmon.yaml'])).toBe(2);
    expect(stderr.join('')).toMatch(/^resmon run: --events names no event: stateChang \(events: stateChange, check, .*groupStateChange, log, started, http, signal, reload, error, exit\)\nusage: resmon run /);
  });

  it('--events with no name at all', async () => {
    expect(await runMain(['--events', ' , ', '/nonexistent/resmon.yaml'])).toBe(2);
    expect(stderr.join('')).toMatch(/^resmon run: --events needs at least one event name \(events: /);
  });

  it('every monitor event, and resmon run’s own lines, are accepted names', async () => {
    const all = [...MONITOR_EVENTS, 'log', 'started', 'http', 'signal', 'reload', 'error', 'exit'].join(',');
    expect(await runMain(['--events', all, '/nonexistent/resmon.yaml'])).toBe(1); // past the flags: the file is missing
    expect(stderr.join('')).toMatch(/the config file cannot be read \(ENOENT\)/);
  });

  it('an unknown flag is named with the flags the command has', () => {
    const flags = { json: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' }, control: { type: 'string' } } as const;
    expect(() => parseFlags(['--jsn', 'x.yaml'], flags, 'resmon x FILE', 1)).toThrow(UsageError);
    expect(() => parseFlags(['--jsn', 'x.yaml'], flags, 'resmon x FILE', 1)).toThrow(
      'unknown option --jsn (options: --json, -v, --verbose, --control, -h, --help)\nusage: resmon x FILE',
    );
    // Other parse errors keep node's own words.
    expect(() => parseFlags(['--control'], flags, 'resmon x FILE', 1)).toThrow(/Option '--control <value>' argument missing\nusage: resmon x FILE/);
  });
});

describe('the client commands: where they looked', () => {
  it('-c FILE that does not exist says so (not only that the socket beside it is missing)', async () => {
    expect(await findSocket({ config: '/nonexistent/resmon.yaml' })).toEqual({
      socket: '/nonexistent/.resmon/control.sock',
      how: '-c /nonexistent/resmon.yaml, a file that does not exist',
    });
    expect((await findSocket({ config: 'package.json' })).how).toBe('-c package.json');
  });
});
