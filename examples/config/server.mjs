// A tiny web server to supervise with resmon: GET /health answers 200 "ok".
// It reads its port from PORT and stops cleanly on SIGTERM.
import http from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const server = http.createServer((req, res) => {
  if (req.url === '/health') res.end('ok');
  else res.end('hello from the supervised server\n');
});
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  console.log('SIGTERM: closing');
  server.close(() => process.exit(0));
});
