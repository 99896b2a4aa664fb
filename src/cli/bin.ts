// The `resmon` executable: runs the command, then exits with its code (no handle is left to
// keep the process alive once the command is done).
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`resmon: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
