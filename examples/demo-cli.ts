// npm run demo:cli: runs the resmon command on examples/demo.yaml for 15 s, as a user would,
// then stops it with SIGINT (every resource goes offline). On a terminal you see the live
// status table; piped, one JSON line per event.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(process.env.DEMO_SECONDS ?? 15);
const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'run', 'examples/demo.yaml', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
const timer = setTimeout(() => child.kill('SIGINT'), seconds * 1_000);
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  console.log(`\nresmon run exited with ${signal ?? `code ${code}`} after the demo's Ctrl-C`);
  process.exitCode = code ?? 1;
});
