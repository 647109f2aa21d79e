import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, test } from 'node:test';
import type http from 'node:http';
import type { BrokerService } from '../../../broker-runtime/src/broker/service.js';
import { unauthenticated } from '../../../broker-runtime/src/errors/errors.js';
import { createBrokerServer } from '../../../broker-runtime/src/http/index.js';
import { MAX_UNPROVEN_STREAMS } from '../../../broker-runtime/src/http/replica-stream.js';
import { MessageReader, encodeMessage, type StreamMessage } from '../../../broker-runtime/src/replication/stream-framing.js';
import { STREAM_PATH, STREAM_PROTOCOL } from '../../../broker-runtime/src/replication/stream-protocol.js';
import { stubService } from './stub-service.js';

/**
 * The follower's end of the replication stream against a hostile peer that can reach the port but
 * cannot sign frames: what it can hold (sockets, buffered bytes) must stay bounded.
 */
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const GOOD = '7.' + 'A'.repeat(43);

async function follower(replicate: BrokerService['replicate']) {
  const { service } = stubService({ replicate });
  const server = createBrokerServer(service, { maxMessageBytes: 1024, maxReplicaFrameBytes: 64 * 1024, logger: () => {} });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

/** Only frames authenticated as GOOD are obeyed; anything else is a 401, as FollowerApply answers. */
const onlyGood: BrokerService['replicate'] = async (frame, auth) => {
  if (auth !== GOOD) throw unauthenticated('not signed');
  return Buffer.from(frame);
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until `ok()` answers something truthy, and answers it (no timing assumption). */
async function until<T>(ok: () => T | Promise<T>, what: string, ms = 20_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await ok();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function connections(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

interface Raw {
  socket: net.Socket;
  status: string;
  answers: StreamMessage[];
  closed: () => boolean;
}

/** Sends an upgrade request (extra header lines allowed) and answers the status line and a reader. */
function upgrade(port: number, extra = '', upgradeTo = STREAM_PROTOCOL): Promise<Raw> {
  const socket = net.connect(port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  // Half-open on our side: a hostile client never sends its FIN.
  socket.on('end', () => {});
  socket.write(`GET ${STREAM_PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: ${upgradeTo}\r\n${extra}\r\n`);
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const reader = new MessageReader(1 << 20);
      const raw: Raw = { socket, status: head.subarray(0, 12).toString('latin1'), answers: [], closed: () => closed };
      if (raw.status.endsWith('101')) {
        socket.on('data', (more: Buffer) => raw.answers.push(...reader.push(more)));
        if (head.length > end + 4) raw.answers.push(...reader.push(head.subarray(end + 4)));
      }
      resolve(raw);
    };
    socket.on('data', onData);
  });
}

test('a refused upgrade (a WebSocket from a page, another protocol) is closed by the broker even when the client never closes its side', async () => {
  const { server, port } = await follower(onlyGood);
  const ws = await upgrade(port, 'origin: https://evil.example\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n', 'websocket');
  assert.match(ws.status, /HTTP\/1.1 400/);
  const fromPage = await upgrade(port, 'origin: https://evil.example\r\n');
  assert.match(fromPage.status, /HTTP\/1.1 403/);
  const fetchMeta = await upgrade(port, 'sec-fetch-site: cross-site\r\n');
  assert.match(fetchMeta.status, /HTTP\/1.1 403/);
  // Not only a FIN: a socket kept open by a client that never closes its side would hold a file
  // descriptor for ever (node's http server does not allow half-open sockets; this keeps it so).
  await until(async () => (await connections(server)) === 0, 'the broker to drop refused upgrades');
});

test(`streams that never sent an authenticated frame are at most ${MAX_UNPROVEN_STREAMS}: more are refused 429, so their buffered bytes stay bounded; a proven stream is not counted`, async () => {
  const { server, port } = await follower(onlyGood);
  const hostile: Raw[] = [];
  for (let i = 0; i < MAX_UNPROVEN_STREAMS; i++) {
    const s = await upgrade(port);
    assert.match(s.status, /101/);
    // Declares a message of the largest size and sends only its start: held in memory unauthenticated.
    const header = Buffer.alloc(10);
    header.writeUInt32BE(6 + 60 * 1024, 0);
    s.socket.write(Buffer.concat([header, Buffer.alloc(1000)]));
    hostile.push(s);
  }
  for (let i = 0; i < 4; i++) assert.match((await upgrade(port)).status, /HTTP\/1.1 429/, 'one more unproven stream is refused');
  await until(async () => (await connections(server)) === MAX_UNPROVEN_STREAMS, 'the refused ones closed');
  assert.ok(hostile.every((s) => !s.closed()), 'the open ones are left alone');

  // One closes: the leader's stream gets its place and proves itself with its first frame.
  hostile.shift()!.socket.destroy();
  const leader = await until(async () => {
    const s = await upgrade(port);
    return s.status.endsWith('101') ? s : null;
  }, 'a place for the leader');
  for (const part of encodeMessage(1, GOOD, Buffer.from('frame'))) leader.socket.write(part);
  await until(() => leader.answers.length === 1, 'the answer to the signed frame');
  assert.equal(leader.answers[0]!.meta.toString(), '200');
  // Proven, it no longer counts: one more unproven stream fits, then none.
  assert.match((await upgrade(port)).status, /101/);
  assert.match((await upgrade(port)).status, /429/);
  for (const part of encodeMessage(2, GOOD, Buffer.from('again'))) leader.socket.write(part);
  await until(() => leader.answers.length === 2, 'the second answer');
  assert.equal(leader.answers[1]!.body.toString(), 'again');
  assert.equal(leader.closed(), false);
});

test('forged frames on a stream are answered 401 and do not prove it: it still counts as unproven', async () => {
  const { port } = await follower(onlyGood);
  const forger = await upgrade(port);
  for (const part of encodeMessage(1, '7.' + 'B'.repeat(43), Buffer.from('forged'))) forger.socket.write(part);
  await until(() => forger.answers.length === 1, 'the 401');
  assert.equal(forger.answers[0]!.meta.toString(), '401');
  for (let i = 1; i < MAX_UNPROVEN_STREAMS; i++) assert.match((await upgrade(port)).status, /101/);
  assert.match((await upgrade(port)).status, /429/);
});

test('an unproven stream has one frame worked on at a time; once a frame is authenticated, up to the advertised limit', async () => {
  let running = 0;
  let most = 0;
  const release: (() => void)[] = [];
  const { port } = await follower(async (frame, auth) => {
    running++;
    most = Math.max(most, running);
    // Held, as a frame is while its epoch's key is looked up in a slow Redis: its bytes stay in memory.
    await new Promise<void>((r) => release.push(r));
    running--;
    if (auth !== GOOD) throw unauthenticated('not signed');
    return Buffer.from(frame);
  });
  const s = await upgrade(port);
  const big = Buffer.alloc(32 * 1024, 1);
  for (let id = 1; id <= 6; id++) for (const part of encodeMessage(id, id === 1 ? GOOD : '7.' + 'B'.repeat(43), big)) s.socket.write(part);
  await until(() => release.length >= 1, 'the first frame at the service');
  await sleep(200);
  assert.equal(most, 1, 'before any frame was authenticated, one at a time');
  release.shift()!();
  await until(() => s.answers.length === 1, 'the first answer');
  assert.equal(s.answers[0]!.meta.toString(), '200');
  await until(() => release.length === 5, 'the other five at the service together, now that the stream is proven');
  assert.equal(most, 5);
  for (const r of release.splice(0)) r();
  await until(() => s.answers.length === 6, 'every answer');
  assert.deepEqual(s.answers.slice(1).map((a) => a.meta.toString()), Array(5).fill('401'));
});

test('a peer that closes its side of a stream (FIN) gets the stream closed at once, not after the 65 s idle timeout', async () => {
  const { server, port } = await follower(onlyGood);
  const s = await upgrade(port);
  assert.match(s.status, /101/);
  s.socket.end();
  await until(() => s.closed(), 'the broker to close its side');
  assert.equal(await connections(server), 0);
});
