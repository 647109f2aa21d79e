import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { after, test } from 'node:test';
import { DEFAULT_MAX_HTTP_CONNECTIONS, createBrokerServer, type RefusedReason } from '../../../broker-runtime/src/http/index.js';
import { makeTestCerts } from '../../../testkit/certs.js';
import { stubService } from './stub-service.js';

/**
 * --max-connections on the REST listener: past the cap a new connection is closed as it is accepted
 * (with TLS, before any handshake), with one warn line per burst and a count per connection; the
 * open ones go on being served, and a freed slot is taken again.
 */
const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function start(maxConnections: number, withTls = false) {
  const warned: { line: string; event: string; fields: Record<string, string | number> }[] = [];
  const refused: RefusedReason[] = [];
  let serverTls: { cert: Buffer; key: Buffer } | undefined;
  if (withTls) {
    const certs = makeTestCerts();
    cleanups.push(() => certs.remove());
    serverTls = { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) };
  }
  const server = createBrokerServer(stubService().service, {
    maxMessageBytes: 1024,
    maxConnections,
    logger: () => {},
    warn: (line, event, fields) => warned.push({ line, event, fields }),
    onRefused: (r) => refused.push(r),
    ...(serverTls ? { tls: serverTls } : {}),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, warned, refused };
}

/** Resolves true when the broker closes `socket` (without sending a byte) within `ms`, false if it is still open then. */
function closedUnanswered(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let got = 0;
    socket.on('data', (d: Buffer) => (got += d.length));
    const t = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(t);
      resolve(got === 0);
    });
  });
}

function raw(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  cleanups.push(() => void s.destroy());
  return new Promise((resolve) => s.once('connect', () => resolve(s)));
}

/** GET /health on an open raw connection: the status line. */
function health(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        s.off('data', onData);
        resolve(text.slice(0, text.indexOf('\r\n')));
      }
    };
    s.on('data', onData);
    s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
  });
}

test('the default cap is 1024 connections', () => {
  assert.equal(DEFAULT_MAX_HTTP_CONNECTIONS, 1024);
});

test('past --max-connections a connection is closed at accept, unanswered, and logged once per burst; the open ones are served; a freed slot is taken again', async () => {
  const { port, warned, refused } = await start(3);
  const open = await Promise.all([1, 2, 3].map(() => raw(port)));
  for (const s of open) assert.equal(await health(s), 'HTTP/1.1 200 OK');
  const extra = await Promise.all([1, 2, 3, 4].map(() => raw(port)));
  assert.deepEqual(await Promise.all(extra.map((s) => closedUnanswered(s, 5000))), [true, true, true, true]);
  assert.deepEqual(refused, ['connection_limit', 'connection_limit', 'connection_limit', 'connection_limit']);
  assert.equal(warned.length, 1, 'one line for a burst');
  assert.equal(warned[0]!.event, 'http.connection_refused');
  assert.match(warned[0]!.line, /^http: closed a new connection from 127\.0\.0\.1:\d+ at accept: 3 connections are open \(--max-connections\); 1 refused in all$/);
  assert.deepEqual({ ...warned[0]!.fields, remote: '' }, { remote: '', max_connections: 3, refused_total: 1 });
  for (const s of open) assert.equal(await health(s), 'HTTP/1.1 200 OK', 'the open connections are untouched');

  open[0]!.destroy();
  // The broker sees the close asynchronously: a new connection is accepted once it has.
  for (let i = 0; ; i++) {
    const s = await raw(port);
    const answer = await Promise.race([health(s), closedUnanswered(s, 5000).then(() => 'closed')]);
    if (answer === 'HTTP/1.1 200 OK') break;
    assert.ok(i < 100, 'a freed slot is never taken again');
    await new Promise((r) => setTimeout(r, 20));
  }
});

test('with TLS the excess is closed before any handshake: no ServerHello, just a closed socket', async () => {
  const { port, refused } = await start(2, true);
  // Two connections that have not started their handshake hold both places.
  const holders = await Promise.all([1, 2].map(() => raw(port)));
  const extra = await raw(port);
  assert.equal(await closedUnanswered(extra, 5000), true);
  assert.deepEqual(refused, ['connection_limit']);
  // The holders can still shake hands and be served.
  const secure = tls.connect({ socket: holders[1]!, rejectUnauthorized: false, servername: 'localhost' });
  cleanups.push(() => void secure.destroy());
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => resolve());
    secure.once('error', reject);
  });
  const status = await new Promise<string>((resolve) => {
    let text = '';
    secure.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
    });
    secure.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
  });
  assert.equal(status, 'HTTP/1.1 200 OK');
});
