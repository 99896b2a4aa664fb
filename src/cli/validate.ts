import { openConfig } from '../config/open.js';
import { ConfigFileError } from '../config/file.js';
import { defaultIo, parseCommand, printHelp, printUsageError, UsageError, wantsHelp } from './args.js';

/**
 * `resmon validate <config>`: checks the file, its `types` modules (imported inline, no host
 * starts) and every resource's properties and policy, starting nothing. Prints each problem
 * as `file:line:col: path rule (got value)` on stderr and exits 1; prints a summary and exits 0
 * when all is well.
 */
export async function validateMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return printHelp(defaultIo, 'validate');
  let file: string;
  try {
    ({ file } = parseCommand(argv, {}));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return printUsageError(defaultIo, 'validate', error.message);
  }
  try {
    const opened = await openConfig(file, { mode: 'validate' });
    const list = opened.monitor.snapshot().map((s) => `${s.name} (${s.type})`);
    await opened.monitor.close();
    process.stdout.write(`${file}: ok, ${list.length} resource${list.length === 1 ? '' : 's'}: ${list.join(', ')}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    for (const e of error.errors) process.stderr.write(`${e.message}\n`);
    process.stderr.write(`${file}: ${error.errors.length} error${error.errors.length === 1 ? '' : 's'}\n`);
    return 1;
  }
}
