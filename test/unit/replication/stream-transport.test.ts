import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, test } from 'node:test';
import type { BrokerService } from '../../../broker-runtime/src/broker/service.js';
import { unauthenticated } from '../../../broker-runtime/src/errors/errors.js';
import { createBrokerServer } from '../../../broker-runtime/src/http/index.js';
import { FRAME_AUTH_HEADER } from '../../../broker-runtime/src/replication/frame-auth.js';
import { MessageReader, encodeMessage } from '../../../broker-runtime/src/replication/stream-framing.js';
import { STREAM_PATH, STREAM_PROTOCOL } from '../../../broker-runtime/src/replication/stream-protocol.js';
import { FRAME_SENDER_HEADER } from '../../../broker-runtime/src/replication/sender-proof.js';
import { SEND_AHEAD_LIMIT, StreamTransport } from '../../../broker-runtime/src/replication/stream-transport.js';
import { TransportError } from '../../../broker-runtime/src/replication/transport.js';
import { unreachableReason } from '../../../broker-runtime/src/replication/unreachable.js';
import { stubService } from '../http/stub-service.js';

/**
 * The leader's StreamTransport against the follower's real HTTP server (createBrokerServer) with a
 * stub service in place of the broker: what crosses the stream, in which order, and what each
 * failure looks like to FollowerSession (the same as one http.request per frame).
 */
const AUTH = { [FRAME_AUTH_HEADER]: '7.' + 'A'.repeat(43) };
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function follower(replicate: BrokerService['replicate'], streams = true, port = 0) {
  const { service } = stubService({ replicate });
  const logged: string[] = [];
  const server = createBrokerServer(service, { maxMessageBytes: 1024, maxReplicaFrameBytes: 64 * 1024, logger: (l) => logged.push(l), replicationStreams: streams });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close, logged };
}

function transport() {
  const via: string[] = [];
  const t = new StreamTransport({ onFrame: (v) => via.push(v) });
  cleanups.push(() => t.close());
  return { t, via };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `ok()` (no timing assumption: a loaded machine only makes it slower). */
async function until(ok: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('frames travel on one stream, several in flight; answers come back matched by id although the follower answers them in reverse order', async () => {
  const held: { n: number; answer: () => void }[] = [];
  const f = await follower(async (frame, auth) => {
    assert.equal(auth, AUTH[FRAME_AUTH_HEADER], 'the auth value reaches the service unchanged');
    if (frame[0] === 255) return Buffer.from('proven');
    await new Promise<void>((answer) => held.push({ n: frame[0]!, answer }));
    return Buffer.from(`answer ${frame[0]}`);
  });
  const { t, via } = transport();
  assert.equal(t.inFlightLimit(f.url), 1, 'one frame at a time until a stream is open (FollowerSession sends nothing ahead)');
  // The follower works on one frame at a time until one was authenticated (http/replica-stream.ts).
  assert.equal((await t.post(f.url, '/replica/append', Buffer.from([255]), 20_000, AUTH)).toString(), 'proven');
  assert.equal(t.inFlightLimit(f.url), Math.min(8, SEND_AHEAD_LIMIT), 'the smaller of the leader\'s 8 and the follower\'s 16, capped by SEND_AHEAD_LIMIT');
  via.length = 0;
  const posts = Array.from({ length: 6 }, (_, n) => t.post(f.url, '/replica/append', Buffer.from([n, 1, 2, 3]), 20_000, AUTH));
  // All six reach the follower before any is answered: they are in flight together.
  await until(() => held.length === 6, 'six frames at the follower');
  for (const h of held.sort((a, b) => b.n - a.n)) {
    h.answer();
    await sleep(5);
  }
  const answers = await Promise.all(posts);
  assert.deepEqual(answers.map((a) => a.toString()), [0, 1, 2, 3, 4, 5].map((n) => `answer ${n}`));
  assert.deepEqual(via, Array(6).fill('stream'));
  assert.equal(t.openStreams(), 1);
});

test('a refusal answers as a POST would: TransportError with the status and the JSON error', async () => {
  const f = await follower(async () => {
    throw unauthenticated('no proof');
  });
  const { t } = transport();
  const err = await t.post(f.url, '/replica/append', Buffer.from('x'), 5000, AUTH).catch((e: unknown) => e);
  assert.ok(err instanceof TransportError);
  assert.equal(err.status, 401);
  assert.match(err.message, /^HTTP 401: .*UNAUTHENTICATED/);
  assert.equal(t.openStreams(), 1, 'a refused frame does not cost the stream');
});

test('a follower that does not upgrade (an older broker: 404) gets the frame by POST, and later ones too', async () => {
  const f = await follower(async (frame) => Buffer.concat([Buffer.from('posted '), frame]), false);
  const { t, via } = transport();
  assert.equal((await t.post(f.url, '/replica/append', Buffer.from('a'), 5000, AUTH)).toString(), 'posted a');
  assert.equal((await t.post(f.url, '/replica/append', Buffer.from('b'), 5000, AUTH)).toString(), 'posted b');
  assert.deepEqual(via, ['post', 'post']);
  assert.equal(t.openStreams(), 0);
  assert.equal(t.inFlightLimit(f.url), 1, 'POSTs: one frame at a time');
});

test('the sender proof (a lazy header) is computed for a frame that goes by POST and once per stream opened (its upgrade carries one), never per frame on the stream', async () => {
  let signed = 0;
  const lengths: (number | undefined)[] = [];
  const headers = {
    ...AUTH,
    [FRAME_SENDER_HEADER]: (length?: number) => {
      lengths.push(length);
      return `${++signed}`;
    },
  };
  const streamed = await follower(async () => Buffer.from('ok'));
  const { t, via } = transport();
  await t.post(streamed.url, '/replica/append', Buffer.from('a'), 5000, headers);
  await t.post(streamed.url, '/replica/append', Buffer.from('b'), 5000, headers);
  await t.post(streamed.url, '/replica/append', Buffer.from('c'), 5000, headers);
  assert.deepEqual(via, ['stream', 'stream', 'stream']);
  assert.equal(signed, 1, 'once, for the upgrade');
  assert.deepEqual(lengths, [0], 'the upgrade proves the key for an empty body');
  const posted = await follower(async () => Buffer.from('ok'), false);
  await t.post(posted.url, '/replica/append', Buffer.from('d'), 5000, headers);
  assert.deepEqual(via, ['stream', 'stream', 'stream', 'post']);
  assert.deepEqual(lengths, [0, 0, undefined], 'the refused upgrade, then the POST (for its own length)');
});

test('--replication-stream off: every frame by POST', async () => {
  const f = await follower(async () => Buffer.from('ok'));
  const via: string[] = [];
  const t = new StreamTransport({ streams: false, onFrame: (v) => via.push(v) });
  cleanups.push(() => t.close());
  await t.post(f.url, '/replica/append', Buffer.from('a'), 5000, AUTH);
  assert.deepEqual(via, ['post']);
});

test('no answer in time: TransportError "no answer within", the stream is dropped and the next frame opens a new one', async () => {
  let hang = true;
  const f = await follower(async () => {
    if (hang) await new Promise(() => {});
    return Buffer.from('late but fine');
  });
  const { t } = transport();
  const err = await t.post(f.url, '/replica/append', Buffer.from('x'), 200, AUTH).catch((e: unknown) => e);
  assert.ok(err instanceof TransportError);
  assert.match(err.message, /^no answer within 200 ms$/);
  assert.equal(unreachableReason(err, f.url)?.kind, 'timeout', 'read as before by the session');
  assert.equal(t.openStreams(), 0);
  hang = false;
  assert.equal((await t.post(f.url, '/replica/append', Buffer.from('y'), 5000, AUTH)).toString(), 'late but fine');
  assert.equal(t.openStreams(), 1);
});

test('a follower that dies mid-stream fails the frames in flight with ECONNRESET; once it is back, the next frame reconnects', async () => {
  let release!: () => void;
  const f = await follower(async () => {
    await new Promise<void>((r) => (release = r));
    return Buffer.from('never');
  });
  const { t } = transport();
  const inFlight = t.post(f.url, '/replica/append', Buffer.from('x'), 5000, AUTH).catch((e: unknown) => e);
  await until(() => release !== undefined, 'the frame in the service');
  const port = Number(new URL(f.url).port);
  await f.close();
  release();
  const err = (await inFlight) as NodeJS.ErrnoException;
  assert.equal(err.code, 'ECONNRESET', String(err));
  assert.equal(unreachableReason(err, f.url)?.kind, 'reset');
  // Nothing listens: refused, as http.request is.
  const refused = (await t.post(f.url, '/replica/append', Buffer.from('x'), 5000, AUTH).catch((e: unknown) => e)) as NodeJS.ErrnoException;
  assert.equal(refused.code, 'ECONNREFUSED');
  const back = await follower(async () => Buffer.from('back'), true, port);
  assert.equal((await t.post(back.url, '/replica/append', Buffer.from('x'), 5000, AUTH)).toString(), 'back');
});

/** A raw upgraded socket to `url`, with whatever the follower sent after its 101 answer. */
async function rawStream(url: string, extraHeaders = ''): Promise<{ socket: net.Socket; head: string; received: Buffer[]; closed: Promise<void> }> {
  const u = new URL(url);
  const socket = net.connect(Number(u.port), u.hostname);
  const received: Buffer[] = [];
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  socket.on('error', () => {});
  socket.write(`GET ${STREAM_PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n${extraHeaders}\r\n`);
  const head = await new Promise<string>((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const rest = Buffer.from(text.slice(end + 4), 'latin1');
      if (rest.length > 0) received.push(rest);
      socket.on('data', (more: Buffer) => received.push(more));
      resolve(text.slice(0, end));
    };
    socket.on('data', onData);
    socket.once('close', () => resolve(text));
  });
  return { socket, head, received, closed };
}

test('the follower answers unauthenticated frames on the stream with 401 from the same check as POST, and keeps the stream', async () => {
  const seen: (string | string[] | undefined)[] = [];
  const f = await follower(async (_frame, auth) => {
    seen.push(auth);
    throw unauthenticated('a replication frame needs a valid x-yak-frame-auth header');
  });
  const s = await rawStream(f.url);
  assert.match(s.head, /^HTTP\/1.1 101/);
  for (const part of encodeMessage(9, '', Buffer.from('forged'))) s.socket.write(part);
  await until(() => new MessageReader(1 << 20).push(Buffer.concat(s.received)).length > 0, 'the answer');
  const [answer] = new MessageReader(1 << 20).push(Buffer.concat(s.received));
  assert.equal(answer!.id, 9);
  assert.equal(answer!.meta.toString(), '401');
  assert.match(answer!.body.toString(), /UNAUTHENTICATED/);
  assert.deepEqual(seen, [''], 'the service checked it');
  s.socket.destroy();
});

test('the follower closes a stream that declares an oversize message or breaks the framing, without calling the service', async () => {
  let calls = 0;
  const f = await follower(async () => {
    calls++;
    return Buffer.from('no');
  });
  const big = await rawStream(f.url);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(0x7fffffff);
  big.socket.write(head);
  await big.closed;
  const garbage = await rawStream(f.url);
  garbage.socket.write(Buffer.from([0, 0, 0, 1, 0xff, 0xff, 0xff]));
  await garbage.closed;
  assert.equal(calls, 0);
  assert.ok(f.logged.some((l) => /exceeds the limit/.test(l)), f.logged.join('\n'));
});

test('the follower works on at most 16 frames of one stream at once; the rest wait unread', async () => {
  let concurrent = 0;
  let most = 0;
  const waiting: (() => void)[] = [];
  const f = await follower(async (frame) => {
    if (frame.toString() === 'p') return Buffer.from('proven');
    concurrent++;
    most = Math.max(most, concurrent);
    await new Promise<void>((r) => waiting.push(r));
    concurrent--;
    return Buffer.from('ok');
  });
  const s = await rawStream(f.url);
  assert.match(s.head, /x-yak-max-in-flight: 16/);
  // One frame at a time until one was authenticated (http/replica-stream.ts): prove the stream first.
  s.socket.write(Buffer.concat(encodeMessage(100, '1.x', Buffer.from('p'))));
  await until(() => new MessageReader(1 << 20).push(Buffer.concat(s.received)).length === 1, 'the first answer');
  const all = Buffer.concat(Array.from({ length: 40 }, (_, i) => Buffer.concat(encodeMessage(i + 1, '1.x', Buffer.from('f')))));
  s.socket.write(all);
  await until(() => concurrent === 16, '16 frames in the service');
  await sleep(100);
  assert.equal(most, 16, 'no 17th while 16 are unanswered');
  while (waiting.length > 0 || concurrent > 0) {
    for (const w of waiting.splice(0)) w();
    await sleep(20);
  }
  assert.equal(most, 16);
  await until(() => new MessageReader(1 << 20).push(Buffer.concat(s.received)).length === 41, 'every frame answered in the end');
  s.socket.destroy();
});

test('upgrades other than the replication stream, and from web pages, are refused with a JSON error', async () => {
  const f = await follower(async () => Buffer.from('no'));
  const page = await rawStream(f.url, 'origin: http://evil.example\r\n');
  assert.match(page.head, /^HTTP\/1.1 403/);
  const u = new URL(f.url);
  const ws = net.connect(Number(u.port), u.hostname);
  ws.write('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n');
  const text = await new Promise<string>((resolve) => {
    let t = '';
    ws.on('data', (d: Buffer) => (t += d.toString()));
    ws.on('close', () => resolve(t));
  });
  assert.match(text, /^HTTP\/1.1 400[\s\S]*INVALID_REQUEST/);
});

/** A hostile or broken "follower": accepts the upgrade, then answers each frame with `reply(id)`. */
async function rogueFollower(reply: (id: number) => Buffer): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    const reader = new MessageReader(1 << 20);
    let upgraded = false;
    socket.on('data', (d: Buffer) => {
      if (!upgraded) {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        upgraded = true;
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\nx-yak-max-message-bytes: 1048576\r\nx-yak-max-in-flight: 16\r\n\r\n`);
        return;
      }
      for (const m of reader.push(d)) socket.write(reply(m.id));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('a follower that answers a frame nobody sent, a status that is not one, or an oversize answer loses its stream; the frame fails as a reset', async () => {
  const wrongId = await rogueFollower((id) => Buffer.concat(encodeMessage(id + 1000, '200', Buffer.from('x'))));
  const badStatus = await rogueFollower((id) => Buffer.concat(encodeMessage(id, 'OK!', Buffer.from('x'))));
  const oversize = await rogueFollower(() => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(0xffffffff);
    return b;
  });
  for (const url of [wrongId, badStatus, oversize]) {
    const { t } = transport();
    const err = (await t.post(url, '/replica/append', Buffer.from('frame'), 5000, AUTH).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    assert.equal(err.code, 'ECONNRESET', `${url}: ${String(err)}`);
    assert.equal(t.openStreams(), 0, 'the stream is dropped');
  }
});
