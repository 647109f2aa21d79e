/**
 * Deterministic reproduction of node:https resetting a keep-alive connection with HPE_PAUSED (see
 * broker-runtime/src/http/tls-pause.ts), against a bare node:https server in its own process
 * (server.mts), with and without the fix:
 *
 *   node --import tsx test/helpers/tls-paused/repro.mts [rounds]
 *
 * - sequential: a plain keep-alive client (https.Agent, one socket, never pipelining) reads a
 *   64 KiB answer to the end, then at once POSTs 256 KiB.
 * - pipelining: a raw TLS socket sends GET /big, stops reading once the answer begins, and sends
 *   POST /upload with 256 KiB on the same connection (legal HTTP/1.1), then reads both answers.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { makeTestCerts } from '../../../testkit/certs.js';
import { startReproServer, type ReproServerOptions } from './start.js';

const rounds = Number(process.argv[2] ?? 20);
const certs = makeTestCerts();
const ca = readFileSync(certs.caCert);
const body = Buffer.alloc(256 * 1024, 'b');

/** `rounds` fresh keep-alive connections, each: GET /big read to its end, then POST /upload. */
async function sequential(port: number): Promise<{ failed: number; errors: string[] }> {
  let failed = 0;
  const errors: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    const call = (method: string, path: string, data?: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, method, path, agent, servername: 'localhost', headers: data ? { 'content-length': data.length } : {} }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(data);
      });
    try {
      await call('GET', '/big');
      await call('POST', '/upload', body);
    } catch (err) {
      failed++;
      errors.push((err as NodeJS.ErrnoException).code ?? String(err));
    } finally {
      agent.destroy();
    }
  }
  return { failed, errors };
}

/** One pipelined pair on a raw TLS socket; true when both answers came. */
function pipelinedPair(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      socket.write('GET /big HTTP/1.1\r\nhost: localhost\r\n\r\n');
      socket.once('data', (first: Buffer) => {
        received += first.length;
        socket.pause(); // the server's answer cannot drain now
        // Head and body in one write: their TLS records reach the server together.
        const head = Buffer.from(`POST /upload HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${body.length}\r\n\r\n`);
        socket.write(Buffer.concat([head, body]), () => setTimeout(() => {
          socket.on('data', (d: Buffer) => {
            received += d.length;
            if (/"bytes":262144/.test(d.toString('latin1'))) {
              socket.destroy();
              resolve(true);
            }
          });
          socket.resume();
        }, 50));
      });
    });
    let received = 0;
    socket.on('error', () => {});
    socket.on('close', () => resolve(false));
  });
}

async function run(client: 'sequential' | 'pipelining', options: Omit<ReproServerOptions, 'cert' | 'key'>): Promise<string> {
  const server = await startReproServer({ ...options, cert: certs.serverCert, key: certs.serverKey });
  try {
    let failed = 0;
    let codes: string[] = [];
    if (client === 'sequential') ({ failed, errors: codes } = await sequential(server.port));
    else for (let i = 0; i < rounds; i++) if (!(await pipelinedPair(server.port))) failed++;
    await new Promise((r) => setTimeout(r, 100));
    const paused = server.errors().filter((e) => e === 'HPE_PAUSED').length;
    return `${client} client, ${options.bytes >> 10} KiB answer in ${options.answer}${options.busyMs ? ` + busy ${options.busyMs} ms` : ''}, fix ${options.fix ? 'on ' : 'off'}: ` +
      `reset in ${failed}/${rounds} rounds${codes.length ? ` (${[...new Set(codes)].join(', ')})` : ''}; server saw HPE_PAUSED ${paused} times`;
  } finally {
    server.stop();
  }
}

try {
  for (const fix of [false, true]) {
    console.log(await run('sequential', { answer: 'handler', busyMs: 0, bytes: 64 * 1024, fix }));
    console.log(await run('sequential', { answer: 'timer', busyMs: 20, bytes: 64 * 1024, fix }));
    console.log(await run('pipelining', { answer: 'handler', busyMs: 0, bytes: 16 * 1024 * 1024, fix }));
  }
} finally {
  certs.remove();
}
