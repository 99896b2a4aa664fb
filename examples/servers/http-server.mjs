// A tiny HTTP server for the examples: listens on 127.0.0.1 (port from argv, 0 = any free
// port), answers GET /health with 200 "ok", and tells its parent the port over IPC.
// `--crash-after MS` makes it exit with code 1 after that long (a crash loop for the demo).
import { createServer } from 'node:http';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const port = arg('--port', 0);
const crashAfter = arg('--crash-after', 0);

const server = createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' });
  res.end(req.url === '/health' ? 'ok' : 'not found');
});
server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address();
  process.send?.({ listening: actual });
  if (crashAfter > 0) setTimeout(() => process.exit(1), crashAfter);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// Exit with the parent: never outlive the monitor that started us.
process.on('disconnect', () => process.exit(0));
