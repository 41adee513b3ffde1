/**
 * The benchmark's reference point: a bare Node.js reverse proxy that forwards bytes and nothing else (no parsing,
 * no policies, no events), over keep-alive connections to the upstream. Issue 2 calls its throughput "the floor to
 * approach"; `npm run bench` measures it in the same run as the gateway. Environment: PORT, UPSTREAM (origin).
 */
import { Agent, createServer, request } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:8001');
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

const server = createServer((req, res) => {
  if (req.url === '/health/live') {
    res.end('ok');
    return;
  }
  const forward = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: req.url,
      method: req.method,
      headers: req.headers,
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on('error', () => res.destroy());
  req.pipe(forward);
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
