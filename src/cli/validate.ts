import { openConfig } from '../config/open.js';
import { isConfigFileError, warningLine } from '../config/file.js';
import { defaultIo, parseCommand, printError, printHelp, SYNOPSIS, UsageError, wantsHelp } from './args.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Sorts lines by their place in the file (`file:line:col: `). */
function order(error: Error): number {
  const match = /:(\d+):(\d+): /.exec(error.message);
  return match ? Number(match[1]) * 10_000 + Number(match[2]) : 0;
}

/**
 * `resmon validate <config>`: checks the file, its `types` modules (imported inline, no host
 * starts) and every resource's properties and policy, starting nothing. Prints each problem
 * as `file:line:col: path rule (got value)` on stderr and exits 1; prints a summary and exits 0
 * when all is well. Every error of the file is reported in one run. Warnings (a command not on
 * PATH) are printed as `file:line:col: warning: …` and do not change the exit code.
 */
export async function validateMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return printHelp(defaultIo, 'validate');
  let file: string;
  try {
    ({ file } = parseCommand(argv, {}, SYNOPSIS.validate));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return printError(defaultIo, 'validate', error.message);
  }
  try {
    const opened = await openConfig(file, { mode: 'validate' });
    const list = opened.monitor.snapshot().map((s) => `${s.name} (${s.type})`);
    await opened.monitor.close();
    for (const w of opened.warnings) process.stderr.write(`${warningLine(w)}\n`);
    const warned = opened.warnings.length ? ` (${plural(opened.warnings.length, 'warning')})` : '';
    process.stdout.write(`${file}: ok${warned}, ${plural(list.length, 'resource')}: ${list.join(', ')}\n`);
    return 0;
  } catch (error) {
    if (!isConfigFileError(error)) throw error;
    const lines = [...error.errors.map((e) => ({ e, text: e.message })), ...error.warnings.map((e) => ({ e, text: warningLine(e) }))];
    lines.sort((a, b) => order(a.e) - order(b.e));
    for (const { text } of lines) process.stderr.write(`${text}\n`);
    const warned = error.warnings.length ? `, ${plural(error.warnings.length, 'warning')}` : '';
    process.stderr.write(`${file}: ${plural(error.errors.length, 'error')}${warned}\n`);
    return 1;
  }
}
