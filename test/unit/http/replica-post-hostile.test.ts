import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, beforeEach, test } from 'node:test';
import type { BrokerService } from '../../../broker-runtime/src/broker/service.js';
import { unauthenticated } from '../../../broker-runtime/src/errors/errors.js';
import { createBrokerServer } from '../../../broker-runtime/src/http/index.js';
import { MAX_PROVEN_POSTS, MAX_UNPROVEN_POSTS } from '../../../broker-runtime/src/http/replica-admission.js';
import { FRAME_AUTH_HEADER, macMatches, parseFrameAuth, signFrame } from '../../../broker-runtime/src/replication/frame-auth.js';
import { FRAME_SENDER_HEADER, SenderSeqs, senderProven, signSender } from '../../../broker-runtime/src/replication/sender-proof.js';
import { stubService } from './stub-service.js';
import { rawAnswer } from '../../helpers/raw-answer.js';

/**
 * POST /replica/append against a peer that can reach the port but does not hold the frame key: the
 * frame's MAC covers the body, so the body must be read before the frame can be refused. What that
 * peer can make the broker read (bodies buffered at once) must stay bounded, and the leader's own
 * POSTs must still get through while the peer holds every place it can.
 */
const EPOCH = 7;
const KEY = randomBytes(32);
const LIMIT = 256 * 1024;

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** What the stub follower did: frames applied (MAC matched), and how many were being worked on. */
let applied: Buffer[] = [];
let replicating = 0;
let maxReplicating = 0;
/** While set, an authenticated frame waits for it before it is applied (a slow apply). */
let holdApply: Promise<void> | null = null;
beforeEach(() => {
  applied = [];
  replicating = 0;
  maxReplicating = 0;
  holdApply = null;
});

/** A follower that knows the key of EPOCH only, checks MACs and sender proofs as the broker does. */
async function follower() {
  const seqs = new SenderSeqs();
  const admitFrame: BrokerService['admitFrame'] = async (auth, sender, length) => {
    const claim = parseFrameAuth(auth);
    if (!claim) throw unauthenticated('a replication frame needs a valid x-yak-frame-auth header');
    if (claim.epoch !== EPOCH) throw unauthenticated(`no leadership with epoch ${claim.epoch} is known in Redis`);
    return senderProven(sender, EPOCH, KEY, length, seqs);
  };
  const replicate: BrokerService['replicate'] = async (frame, auth, onAuthenticated) => {
    replicating++;
    maxReplicating = Math.max(maxReplicating, replicating);
    try {
      const claim = parseFrameAuth(auth);
      if (!claim || claim.epoch !== EPOCH || !macMatches(KEY, frame, claim.mac)) throw unauthenticated('the frame is not signed by the leader');
      onAuthenticated?.();
      if (holdApply) await holdApply;
      applied.push(frame);
      return Buffer.from('{"ok":true}');
    } finally {
      replicating--;
    }
  };
  const stub = stubService({ admitFrame, replicate });
  const logged: string[] = [];
  const refused: string[] = [];
  const server = createBrokerServer(stub.service, { maxMessageBytes: 1024, maxReplicaFrameBytes: LIMIT, logger: (l) => logged.push(l), onRefused: (r) => refused.push(r) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const admitted = () => stub.calls.filter((c) => c.method === 'admitFrame').length;
  /** Until the follower has looked at `n` POSTs' headers in all (each is counted in the same turn). */
  const headersSeen = (n: number) => until(() => admitted() >= n, `${n} POSTs seen`);
  return { port: (server.address() as AddressInfo).port, calls: stub.calls, logged, refused, headersSeen };
}

interface Post {
  socket: net.Socket;
  /** The status line and body of the answer, or null if the connection closed without one. */
  answer: Promise<{ status: number; head: string; body: string } | null>;
  /** Bytes the broker sent so far. */
  received: () => string;
}

/** Starts a POST: request line and headers, and `body` (maybe only the start of the declared length). */
function post(port: number, headers: Record<string, string | number>, body: Buffer = Buffer.alloc(0)): Post {
  const socket = net.connect(port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  socket.on('error', () => {});
  const { answer, received } = rawAnswer(socket);
  const lines = Object.entries({ host: '127.0.0.1', 'content-type': 'application/octet-stream', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`POST /replica/append HTTP/1.1\r\n${lines.join('')}\r\n`);
  if (body.length > 0) socket.write(body);
  return { socket, answer, received };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(ok: () => T, what: string, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = ok();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A frame and the headers the leader sends with it (auth, and the sender proof unless `proof` is false). */
function genuine(bytes = 1000, proof = true): { frame: Buffer; headers: Record<string, string | number> } {
  const frame = randomBytes(bytes);
  const headers: Record<string, string | number> = { 'content-length': frame.length, [FRAME_AUTH_HEADER]: signFrame(EPOCH, KEY, frame) };
  if (proof) headers[FRAME_SENDER_HEADER] = signSender(EPOCH, KEY, frame.length);
  return { frame, headers };
}

/** An attacker's POST: a proof-shaped header naming the real epoch (it is public), a big declared body, a few bytes of it. */
function slowForgery(port: number): Post {
  return post(port, { 'content-length': LIMIT, [FRAME_AUTH_HEADER]: `${EPOCH}.${'A'.repeat(43)}` }, randomBytes(100));
}

/** The answer was an error in the project's format, with this code. */
function assertError(a: { status: number; body: string } | null, status: number, code: string): void {
  assert.ok(a, 'the connection closed without an answer');
  assert.equal(a.status, status, a.body);
  assert.equal((JSON.parse(a.body) as { error: string }).error, code);
}

test('a frame that can never authenticate is refused before its body is read: no header, a malformed one, an epoch with no key, no Content-Length, over the limit', async () => {
  const { port, calls } = await follower();
  // None of these sends a byte of its (large) declared body: each answer comes anyway.
  const cases: [Record<string, string | number>, number, string][] = [
    [{ 'content-length': LIMIT }, 401, 'UNAUTHENTICATED'],
    [{ 'content-length': LIMIT, [FRAME_AUTH_HEADER]: 'garbage' }, 401, 'UNAUTHENTICATED'],
    [{ 'content-length': LIMIT, [FRAME_AUTH_HEADER]: `${EPOCH + 1}.${'A'.repeat(43)}` }, 401, 'UNAUTHENTICATED'],
    [{ 'content-length': LIMIT, [FRAME_AUTH_HEADER]: `${2 ** 32}.${'A'.repeat(43)}` }, 401, 'UNAUTHENTICATED'],
    [{ 'transfer-encoding': 'chunked', [FRAME_AUTH_HEADER]: `${EPOCH}.${'A'.repeat(43)}` }, 400, 'INVALID_REQUEST'],
    [{ 'content-length': LIMIT + 1, [FRAME_AUTH_HEADER]: `${EPOCH}.${'A'.repeat(43)}` }, 413, 'MESSAGE_TOO_LARGE'],
  ];
  for (const [headers, status, code] of cases) {
    const p = post(port, headers);
    assertError(await p.answer, status, code);
    p.socket.destroy();
  }
  assert.equal(calls.filter((c) => c.method === 'replicate').length, 0, 'no body reached replicate()');
  assert.equal(applied.length, 0);
});

test(`at most ${MAX_UNPROVEN_POSTS} unauthenticated bodies are read at once; the rest are refused 429 THROTTLED with Retry-After before their body is read`, async () => {
  const { port, logged, refused, headersSeen } = await follower();
  const held = Array.from({ length: MAX_UNPROVEN_POSTS }, () => slowForgery(port));
  await headersSeen(MAX_UNPROVEN_POSTS);
  const flood = Array.from({ length: 40 }, () => slowForgery(port));
  const answers = await Promise.all(flood.map((f) => f.answer));
  for (const a of answers) {
    assertError(a, 429, 'THROTTLED');
    assert.match(a!.head, /\r\nretry-after: 1\r\n/i);
  }
  assert.equal(refused.filter((r) => r === 'replica_throttled').length, 40);
  assert.equal(logged.filter((l) => l.includes('POST /replica/append refused')).length, 1, 'one log line for the flood');
  // The held ones are still waiting for their bodies: nothing was answered, nothing replicated.
  assert.ok(held.every((h) => h.received() === ''));
  assert.equal(replicating, 0);
  // A held body that ends is checked and refused (401), and gives its place back: a new one is admitted.
  held[0]!.socket.write(randomBytes(LIMIT - 100));
  assertError(await held[0]!.answer, 401, 'UNAUTHENTICATED');
  const next = genuine(1000, false);
  const p = post(port, next.headers, next.frame);
  assert.equal((await p.answer)?.status, 200);
  assert.equal(applied.length, 1);
  // Clients that go away also give their places back (once the broker has seen them go).
  for (const h of held.slice(1)) h.socket.destroy();
  let status = 0;
  for (let i = 0; i < 500 && status !== 200; i++) {
    const g = genuine(1000, false);
    status = (await post(port, g.headers, g.frame).answer)?.status ?? 0;
    if (status !== 200) {
      assert.equal(status, 429);
      await sleep(10);
    }
  }
  assert.equal(status, 200);
  for (let i = 0; i < MAX_UNPROVEN_POSTS - 1; i++) {
    const g = genuine(1000, false);
    assert.equal((await post(port, g.headers, g.frame).answer)?.status, 200);
  }
});

test('the genuine leader is never starved: with every unauthenticated place held, its proven POSTs are read and applied, and a replayed proof is not', async () => {
  const { port, headersSeen } = await follower();
  const held = Array.from({ length: MAX_UNPROVEN_POSTS }, () => slowForgery(port));
  await headersSeen(MAX_UNPROVEN_POSTS);
  assertError(await slowForgery(port).answer, 429, 'THROTTLED');
  for (let i = 0; i < 20; i++) {
    const g = genuine(10_000);
    const p = post(port, g.headers, g.frame);
    const a = await p.answer;
    assert.equal(a?.status, 200, a?.body);
  }
  assert.equal(applied.length, 20);
  // A proof seen on the wire, replayed with another body of the same length, does not skip the queue again.
  const seen = genuine(10_000);
  assert.equal((await post(port, seen.headers, seen.frame).answer)?.status, 200);
  const forged = randomBytes(10_000);
  const replay = post(port, { ...seen.headers, [FRAME_AUTH_HEADER]: `${EPOCH}.${'A'.repeat(43)}` }, forged);
  assertError(await replay.answer, 429, 'THROTTLED');
  // A proof for another length, or made with another key, does not either.
  const other = genuine(10_000);
  assertError(await post(port, { ...other.headers, [FRAME_SENDER_HEADER]: signSender(EPOCH, KEY, 9_999) }, other.frame).answer, 429, 'THROTTLED');
  assertError(await post(port, { ...other.headers, [FRAME_SENDER_HEADER]: signSender(EPOCH, randomBytes(32), 10_000) }, other.frame).answer, 429, 'THROTTLED');
  assert.equal(applied.length, 21, 'no forged frame was applied');
  assert.ok(held.every((h) => h.received() === ''), 'the attacker got nothing back meanwhile');
});

test(`proven POSTs are bounded too (${MAX_PROVEN_POSTS} bodies at once), and an authenticated frame gives its unauthenticated place back before it is applied`, async () => {
  const { port, calls, headersSeen } = await follower();
  let release!: () => void;
  holdApply = new Promise((r) => (release = r));
  // Frames of a leader without sender proofs (an older version): each authenticates, then waits to be applied.
  const slowApplies = Array.from({ length: MAX_UNPROVEN_POSTS }, () => {
    const g = genuine(1000, false);
    return post(port, g.headers, g.frame);
  });
  await until(() => replicating === MAX_UNPROVEN_POSTS, 'every frame authenticated and waiting to be applied');
  // Their places are free again: a forged body is admitted (and refused once read), not throttled.
  const forged = post(port, { 'content-length': 1000, [FRAME_AUTH_HEADER]: `${EPOCH}.${'A'.repeat(43)}` }, randomBytes(1000));
  assertError(await forged.answer, 401, 'UNAUTHENTICATED');
  release();
  for (const p of slowApplies) assert.equal((await p.answer)?.status, 200);
  assert.equal(applied.length, MAX_UNPROVEN_POSTS);
  // Proven bodies past MAX_PROVEN_POSTS wait in the unproven queue: with it full, they are throttled.
  const seen = calls.filter((c) => c.method === 'admitFrame').length;
  const held = Array.from({ length: MAX_UNPROVEN_POSTS }, () => slowForgery(port));
  const proven = Array.from({ length: MAX_PROVEN_POSTS }, () => {
    const g = genuine(LIMIT);
    return post(port, g.headers, g.frame.subarray(0, 10));
  });
  await headersSeen(seen + MAX_UNPROVEN_POSTS + MAX_PROVEN_POSTS);
  const extra = genuine(1000);
  assertError(await post(port, extra.headers, extra.frame).answer, 429, 'THROTTLED');
  assert.ok([...held, ...proven].every((h) => h.received() === ''));
  assert.ok(maxReplicating <= MAX_UNPROVEN_POSTS + MAX_PROVEN_POSTS);
});
