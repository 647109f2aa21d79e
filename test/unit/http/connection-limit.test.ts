import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { after, test } from 'node:test';
import type { BrokerService } from '../../../broker-runtime/src/broker/service.js';
import { unauthenticated } from '../../../broker-runtime/src/errors/errors.js';
import { PROBATION_SLOTS } from '../../../broker-runtime/src/http/connection-limit.js';
import { DEFAULT_MAX_HTTP_CONNECTIONS, createBrokerServer, type RefusedReason } from '../../../broker-runtime/src/http/index.js';
import { FRAME_AUTH_HEADER, macMatches, parseFrameAuth, signFrame } from '../../../broker-runtime/src/replication/frame-auth.js';
import { FRAME_SENDER_HEADER, SenderSeqs, senderProven, signSender } from '../../../broker-runtime/src/replication/sender-proof.js';
import { StreamConnection } from '../../../broker-runtime/src/replication/stream-connection.js';
import { StreamTransport } from '../../../broker-runtime/src/replication/stream-transport.js';
import { makeTestCerts } from '../../../testkit/certs.js';
import { rawAnswer } from '../../helpers/raw-answer.js';
import { stubService } from './stub-service.js';

/**
 * --max-connections on the REST listener, which replication shares: past the cap a connection is
 * kept on probation (http/connection-limit.ts) and served only if its first request is a
 * replication request that proves the frame key; anything else is closed unanswered (a silent one
 * at the probation deadline; with TLS, without a handshake if it never began one), with one warn
 * line per burst and a count per connection; the open ones go on being served, a freed slot is
 * taken again, and the leader's POST or stream gets in however many others hold the port.
 */
const EPOCH = 7;
const KEY = randomBytes(32);
const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function start(maxConnections: number, withTls = false) {
  const warned: { line: string; event: string; fields: Record<string, string | number> }[] = [];
  const refused: RefusedReason[] = [];
  let serverTls: { cert: Buffer; key: Buffer } | undefined;
  let ca: Buffer | undefined;
  if (withTls) {
    const certs = makeTestCerts();
    cleanups.push(() => certs.remove());
    serverTls = { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) };
    ca = readFileSync(certs.caCert);
  }
  // A follower that knows the key of EPOCH only, and checks MACs and sender proofs as the broker does.
  const seqs = new SenderSeqs();
  const admitFrame: BrokerService['admitFrame'] = async (auth, sender, length) => {
    const claim = parseFrameAuth(auth);
    if (!claim || claim.epoch !== EPOCH) throw unauthenticated('no such epoch');
    return senderProven(sender, EPOCH, KEY, length, seqs);
  };
  const replicate: BrokerService['replicate'] = async (frame, auth, onAuthenticated) => {
    const claim = parseFrameAuth(auth);
    if (!claim || claim.epoch !== EPOCH || !macMatches(KEY, frame, claim.mac)) throw unauthenticated('the frame is not signed by the leader');
    onAuthenticated?.();
    return Buffer.from('applied');
  };
  const server = createBrokerServer(stubService({ admitFrame, replicate }).service, {
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
  const connections = () => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  return { port: (server.address() as net.AddressInfo).port, warned, refused, connections, ca };
}

/** Waits until `ok()` holds (polling), failing with `what` after a long while. */
async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A replication POST as the leader sends it (auth, and the sender proof unless `proof` is false): its answer, or null if closed first. */
function replicaPost(s: net.Socket, proof = true) {
  const frame = randomBytes(100);
  const headers: Record<string, string | number> = { host: '127.0.0.1', 'content-type': 'application/octet-stream', 'content-length': frame.length, [FRAME_AUTH_HEADER]: signFrame(EPOCH, KEY, frame) };
  if (proof) headers[FRAME_SENDER_HEADER] = signSender(EPOCH, KEY, frame.length);
  const { answer } = rawAnswer(s);
  s.write(`POST /replica/append HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  s.write(frame);
  return answer;
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
    s.write('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  });
}

test('the default cap is 1024 connections', () => {
  assert.equal(DEFAULT_MAX_HTTP_CONNECTIONS, 1024);
});

test('past --max-connections a connection that asks anything but a proven replication request (or sends what is not HTTP) is closed unanswered, a silent one at the probation deadline; logged once per burst; the open ones are served; a freed slot is taken again', async () => {
  const { port, warned, refused } = await start(3);
  const open = await Promise.all([1, 2, 3].map(() => raw(port)));
  for (const s of open) assert.equal(await health(s), 'HTTP/1.1 200 OK');
  const extra = await Promise.all([1, 2, 3, 4].map(() => raw(port)));
  // One asks for /health and one sends what is not HTTP (each closed as soon as it is read), two send nothing (closed at the deadline).
  const outcomes = extra.map((s) => closedUnanswered(s, 60_000));
  extra[0]!.write('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  extra[1]!.write('NOT HTTP AT ALL\r\n\r\n');
  assert.deepEqual(await Promise.all(outcomes), [true, true, true, true]);
  assert.deepEqual(refused, ['connection_limit', 'connection_limit', 'connection_limit', 'connection_limit']);
  assert.equal(warned.length, 1, 'one line for a burst');
  assert.equal(warned[0]!.event, 'http.connection_refused');
  assert.match(warned[0]!.line, /^http: closed a connection from 127\.0\.0\.1:\d+ past --max-connections \(3 open\): its first request was not a replication request that proves the frame key; 1 refused in all$/);
  assert.deepEqual({ ...warned[0]!.fields, remote: '' }, { remote: '', max_connections: 3, refused_total: 1 });
  for (const s of open) assert.equal(await health(s), 'HTTP/1.1 200 OK', 'the open connections are untouched');

  open[0]!.destroy();
  // The broker sees the close asynchronously: a new connection is served once it has.
  for (let i = 0; ; i++) {
    const s = await raw(port);
    const answer = await Promise.race([health(s), closedUnanswered(s, 60_000).then(() => 'closed')]);
    if (answer === 'HTTP/1.1 200 OK') break;
    assert.ok(i < 100, 'a freed slot is never taken again');
    await new Promise((r) => setTimeout(r, 20));
  }
});

test("past --max-connections the leader's POST that proves the frame key is served, and its connection kept; one without the proof is closed unanswered", async () => {
  const { port, refused } = await start(2);
  const holders = await Promise.all([1, 2].map(() => raw(port)));
  for (const s of holders) assert.equal(await health(s), 'HTTP/1.1 200 OK');

  const forged = await raw(port);
  assert.equal(await replicaPost(forged, false), null, 'a POST without the sender proof is closed unanswered');
  assert.deepEqual(refused, ['connection_limit']);

  const leader = await raw(port);
  const answer = await replicaPost(leader);
  assert.equal(answer?.status, 200, answer?.body);
  assert.equal(answer?.body, 'applied');
  // Kept past the probation deadline, and its next requests are served as any connection's.
  await new Promise((r) => setTimeout(r, 2500));
  const again = await replicaPost(leader, false);
  assert.equal(again?.status, 200, again?.body);
  assert.equal(await health(leader), 'HTTP/1.1 200 OK');
  assert.deepEqual(refused, ['connection_limit']);
});

test("past --max-connections the leader's stream opens (its upgrade proves the frame key) even with every probation slot taken; an upgrade without the proof is answered 429 and closed", async () => {
  const { port, refused, connections } = await start(2);
  const url = `http://127.0.0.1:${port}`;
  const { holders, flood } = await fillCapAndProbation(port, connections);

  // An older leader's upgrade carries no proof: answered 429 (it posts its frames instead), then closed.
  assert.deepEqual(await StreamConnection.open(url, {}, 10_000), { refused: true, status: 429 });
  assert.ok(refused.length >= 1);

  const transport = new StreamTransport();
  try {
    const frame = randomBytes(100);
    const auth = signFrame(EPOCH, KEY, frame);
    const answer = await transport.post(url, '/replica/append', frame, 10_000, {
      [FRAME_AUTH_HEADER]: auth,
      [FRAME_SENDER_HEADER]: (length = frame.length) => signSender(EPOCH, KEY, length),
    });
    assert.equal(answer.toString(), 'applied');
    assert.equal(transport.streaming(url), true, 'the frame went on a stream');
    // The stream stays past the deadline; the silent flood does not.
    await until(() => flood.every((s) => s.destroyed || s.closed), 'the flood closed at the deadline');
    const next = randomBytes(10);
    assert.equal((await transport.post(url, '/replica/append', next, 10_000, { [FRAME_AUTH_HEADER]: signFrame(EPOCH, KEY, next) })).toString(), 'applied');
    assert.equal(transport.streaming(url), true);
  } finally {
    transport.close();
  }
});

/** A stream upgrade as the leader sends it, with `headers` for its proof (none: as a leader of an older version sends it). */
function upgrade(headers: Record<string, string> = {}, protocol = 'yak-replication/1'): string {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `GET /replica/stream HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: ${protocol}\r\n${extra}\r\n`;
}

test('past --max-connections a stream upgrade without any proof (a leader of an older version) is answered 429, closed and counted as refused; other upgrades that prove nothing stay closed unanswered', async () => {
  const { port, warned, refused, connections } = await start(2);
  const holders = await Promise.all([1, 2].map(() => raw(port)));
  for (const s of holders) assert.equal(await health(s), 'HTTP/1.1 200 OK');

  const old = await raw(port);
  const { answer } = rawAnswer(old);
  const closed = new Promise<void>((resolve) => old.once('close', () => resolve()));
  old.write(upgrade());
  const got = await answer;
  assert.equal(got?.status, 429, got?.head);
  assert.match(got!.head, /^retry-after: 30$/im);
  assert.match(got!.head, /^connection: close$/im);
  assert.equal(JSON.parse(got!.body).error, 'THROTTLED');
  assert.match(JSON.parse(got!.body).message, /past --max-connections a replication stream must prove the frame key \(x-yak-frame-sender\); post frames to \/replica\/append/);
  await closed; // by the broker: nothing more is served on it
  assert.deepEqual(refused, ['connection_limit'], 'counted once, as any refused connection');
  assert.equal(warned.length, 1);
  assert.match(warned[0]!.line, /past --max-connections \(2 open\): its first request was a replication stream upgrade without the proof of the frame key \(a leader of an older version\), answered that it should post its frames instead; 1 refused in all$/);
  await until(async () => (await connections()) === 2, 'its place freed');

  // With only x-yak-frame-auth (no sender proof) it is answered the same.
  const authOnly = await raw(port);
  const authOnlyAnswer = rawAnswer(authOnly).answer;
  authOnly.write(upgrade({ [FRAME_AUTH_HEADER]: signFrame(EPOCH, KEY, Buffer.alloc(0)) }));
  assert.equal((await authOnlyAnswer)?.status, 429);

  // A proof that does not check out, another protocol, a browser's upgrade: closed without a byte.
  for (const request of [
    upgrade({ [FRAME_AUTH_HEADER]: signFrame(EPOCH, KEY, Buffer.alloc(0)), [FRAME_SENDER_HEADER]: 'forged' }),
    upgrade({}, 'websocket'),
    upgrade({ origin: 'http://evil.example' }),
  ]) {
    const s = await raw(port);
    const outcome = closedUnanswered(s, 60_000);
    s.write(request);
    assert.equal(await outcome, true, request);
  }
  assert.equal(refused.length, 5);
  for (const s of holders) assert.equal(await health(s), 'HTTP/1.1 200 OK', 'the open connections are untouched');
});

test('past --max-connections, with every probation slot taken, a leader whose upgrade carries no sender proof is answered 429 and posts its frames instead (each POST proving the frame key)', async () => {
  const { port, refused, connections } = await start(2);
  const url = `http://127.0.0.1:${port}`;
  const { holders, flood } = await fillCapAndProbation(port, connections);

  const posted: string[] = [];
  const transport = new StreamTransport({ onFrame: (via) => posted.push(via) });
  try {
    for (let i = 0; i < 3; i++) {
      const frame = randomBytes(100 + i);
      // A sender proof given as a value, not lazily: the transport's upgrade then carries none, as
      // an older leader's upgrade does, while its POST carries it, as an older leader's does.
      const answer = await transport.post(url, '/replica/append', frame, 10_000, {
        [FRAME_AUTH_HEADER]: signFrame(EPOCH, KEY, frame),
        [FRAME_SENDER_HEADER]: signSender(EPOCH, KEY, frame.length),
      });
      assert.equal(answer.toString(), 'applied');
    }
    assert.deepEqual(posted, ['post', 'post', 'post'], 'asked for the stream once, then posted every frame');
    assert.equal(transport.streaming(url), false);
    assert.ok(refused.length >= 1, 'the upgrade was refused');
  } finally {
    transport.close();
  }
});

test('with TLS too, past the cap a stream upgrade without any proof is answered 429 and its connection closed', async () => {
  const { port, refused, connections, ca } = await start(1, true);
  const holder = await raw(port);
  await until(async () => (await connections()) === 1, 'the holder accepted');
  assert.deepEqual(await StreamConnection.open(`https://127.0.0.1:${port}`, { ca: ca! }, 10_000), { refused: true, status: 429 });
  assert.deepEqual(refused, ['connection_limit']);
  await until(async () => (await connections()) === 1, 'the answered connection closed');
  assert.equal(await healthOverTls(holder), 'HTTP/1.1 200 OK');
});

test('with TLS a connection past the cap that never starts its handshake is closed at the probation deadline: no ServerHello, just a closed socket', async () => {
  const { port, refused } = await start(2, true);
  // Two connections that have not started their handshake hold both places.
  const holders = await Promise.all([1, 2].map(() => raw(port)));
  const extra = await raw(port);
  assert.equal(await closedUnanswered(extra, 60_000), true);
  assert.deepEqual(refused, ['connection_limit']);
  // The holders can still shake hands and be served.
  assert.equal(await healthOverTls(holders[1]!), 'HTTP/1.1 200 OK');
});

test('with TLS, one connection more than the probation slots closes one unanswered (the newcomer at once, or the oldest once it had its grace), and the listener serves on', async () => {
  const { port, refused, connections } = await start(1, true);
  const holder = await raw(port);
  await until(async () => (await connections()) === 1, 'the holder accepted');
  const waiting = await Promise.all(Array.from({ length: PROBATION_SLOTS }, () => raw(port)));
  await until(async () => (await connections()) === 1 + PROBATION_SLOTS, 'the probationers accepted');
  const extra = await raw(port);
  const all = [...waiting, extra];
  // Which one depends on how long the accepts took (the grace); either way it got no byte, not even a ServerHello.
  const outcomes = all.map((s) => closedUnanswered(s, 60_000));
  assert.equal(await Promise.race(outcomes), true);
  assert.ok(refused.length >= 1);
  // The holder still shakes hands and is served.
  assert.equal(await healthOverTls(holder), 'HTTP/1.1 200 OK');
});

/** The status line of a GET /health sent over TLS on an accepted raw socket (the handshake done here). */
async function healthOverTls(socket: net.Socket): Promise<string> {
  const secure = tls.connect({ socket, rejectUnauthorized: false, servername: 'localhost' });
  cleanups.push(() => void secure.destroy());
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => resolve());
    secure.once('error', reject);
  });
  return new Promise<string>((resolve) => {
    let text = '';
    secure.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
    });
    secure.write('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  });
}

/**
 * With a cap of 2: two served connections hold the cap, and every probation slot is taken by
 * connections that send nothing, older than the grace.
 */
async function fillCapAndProbation(port: number, connections: () => Promise<number>): Promise<{ holders: net.Socket[]; flood: net.Socket[] }> {
  const holders = await Promise.all([1, 2].map(() => raw(port)));
  for (const s of holders) assert.equal(await health(s), 'HTTP/1.1 200 OK');
  const flood = await Promise.all(Array.from({ length: PROBATION_SLOTS }, () => raw(port)));
  await until(async () => (await connections()) === 2 + PROBATION_SLOTS, 'the flood accepted');
  await new Promise((r) => setTimeout(r, 300));
  return { holders, flood };
}
