/**
 * A bare node:https server (no broker) for the HPE_PAUSED reproduction (repro.mts), run in its own
 * process. GET /big answers `bytes` (> 16 KiB, so node's writable high-water mark is passed and
 * needDrain is set), either at once in the request handler (poll phase) or from a timer after which
 * the process stays busy `busyMs` (a busy server: the answer is in the kernel, but node learns that
 * its write completed only in a later check phase, so the next request is parsed while needDrain is
 * still true). POST /upload reads its body and answers its length. Each clientError's code is written to
 * stdout (`clientError CODE`), after the first line, the port. argv[2]: JSON { cert, key, answer: 'handler'|'timer', busyMs, bytes, fix }.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { keepPausedTlsConnectionsPaused } from '../../../broker-runtime/src/http/tls-pause.js';

const opts = JSON.parse(process.argv[2]!) as { cert: string; key: string; answer: 'handler' | 'timer'; busyMs: number; bytes: number; fix: boolean };
const big = Buffer.alloc(opts.bytes, 'x');
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

const server = https.createServer({ cert: readFileSync(opts.cert), key: readFileSync(opts.key), keepAliveTimeout: 60_000 }, (req, res) => {
  if (req.url === '/big') {
    const answer = () => res.writeHead(200, { 'content-length': big.length }).end(big);
    if (opts.answer === 'handler') answer();
    else setTimeout(() => {
      answer();
      busy(opts.busyMs);
    }, 0);
  } else if (req.url === '/upload') {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(JSON.stringify({ bytes: n })));
  } else res.writeHead(404).end();
});
server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
  process.stdout.write(`clientError ${err.code ?? err.message}\n`);
  socket.destroy();
});
if (opts.fix) keepPausedTlsConnectionsPaused(server);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
