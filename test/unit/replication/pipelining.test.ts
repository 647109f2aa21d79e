import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitAnswer } from '../../../broker-runtime/src/replication/answer-auth.js';
import { FRAME_AUTH_HEADER } from '../../../broker-runtime/src/replication/frame-auth.js';
import { BULK_RECORDS, HWM_HOLD_MS } from '../../../broker-runtime/src/replication/follower-session.js';
import { TransportError, type FrameHeaders, type FramePoster } from '../../../broker-runtime/src/replication/transport.js';
import { decodeAnswer, decodeFrame } from '../../../broker-runtime/src/replication/wire.js';
import { Cluster, RENEW_MS, type Replica } from './replication-harness.js';

/**
 * FollowerSession's pipelining, one rule per test: the real LeaderReplication, FollowerSession and
 * FollowerApply over a replication stream the test drives by hand (ManualStream): frames arrive in
 * the order sent, the test says when the follower applies each and when its answer comes back, and
 * can break the stream (every frame in flight fails, as stream-connection.ts does).
 */

interface Frame {
  to: Replica;
  body: Buffer;
  auth: string;
  /** The follower's answer once it applied the frame (deliver), not yet seen by the leader. */
  applied: Promise<Buffer> | null;
  resolve(answer: Buffer): void;
  reject(err: Error): void;
}

class ManualStream implements FramePoster {
  /** Frames in flight, oldest first. */
  readonly frames: Frame[] = [];
  /** Every frame sent, for assertions: where each started. */
  readonly sent: { prevOffset: number; length: number; via: 'stream' | 'post' }[] = [];
  /** Whether the stream is open: its limit, else 1 (a POST each, answered at once). */
  open = true;
  constructor(
    private readonly cluster: Cluster,
    readonly limit = 4,
  ) {}

  inFlightLimit(): number {
    return this.open ? this.limit : 1;
  }

  streaming(): boolean {
    return this.open;
  }

  post(baseUrl: string, _path: string, body: Buffer, _timeoutMs: number, headers: FrameHeaders = {}): Promise<Buffer> {
    const to = this.cluster.replicas.get(new URL(baseUrl).hostname)!;
    const part = decodeFrame(body).header.parts[0];
    this.sent.push({ prevOffset: part?.prevOffset ?? -1, length: part?.length ?? 0, via: this.open ? 'stream' : 'post' });
    const auth = headers[FRAME_AUTH_HEADER];
    if (typeof auth !== 'string') throw new Error('a frame without its signature');
    if (!this.open) return refusalAsStatus(to.follower.handle(body, auth)); // a POST: answered in one go
    return new Promise<Buffer>((resolve, reject) => this.frames.push({ to, body, auth, applied: null, resolve, reject }));
  }

  /** The follower applies the next `n` frames not applied yet, in order (their answers stay on the way). */
  async deliver(n = this.frames.length): Promise<void> {
    for (const f of this.frames.filter((x) => x.applied === null).slice(0, n)) {
      f.applied = refusalAsStatus(f.to.follower.handle(f.body, f.auth));
      f.applied.catch(() => {});
      await f.applied.catch(() => {});
    }
  }

  /** The oldest frame's answer reaches the leader (applied first if it was not), and the leader takes one turn. */
  async answer(): Promise<void> {
    const f = this.frames[0]!;
    if (!f.applied) await this.deliver(1);
    this.frames.shift();
    await f.applied!.then(f.resolve, f.reject);
    await this.cluster.time.advance(0);
  }

  /** The connection is lost: what was applied stays applied, every frame in flight fails; frames then go by POST. */
  break(): void {
    this.open = false;
    for (const f of this.frames.splice(0)) f.reject(Object.assign(new Error('the replication stream was closed'), { code: 'ECONNRESET' }));
  }
}

function refusalAsStatus(p: Promise<Buffer>): Promise<Buffer> {
  return p.catch((err: Error & { status?: number }) => {
    throw new TransportError(err.message, err.status ?? 500);
  });
}

/** A leader b1 and its follower b2, both in sync, on a stream; `committed` records replicated and committed first. */
async function pipelined(committed: string[], limit = 4) {
  const c = new Cluster();
  const stream = new ManualStream(c, limit);
  c.transport = stream;
  const b1 = c.add('b1');
  const b2 = c.add('b2');
  const rep = c.lead(b1, 1, ['b1', 'b2']);
  if (committed.length > 0) c.append(b1, rep, committed);
  // The first frame goes alone (nothing is sent ahead before the follower's first answer).
  await c.time.advance(0);
  assert.equal(stream.frames.length, 1, 'the first frame goes alone');
  while (stream.frames.length > 0) {
    await stream.answer();
    await c.time.advance(0);
  }
  assert.equal(b1.log.highWatermark(), committed.length);
  stream.sent.length = 0;
  return { c, stream, b1, b2, rep };
}

/** One append on the leader (one record, or `count` named value-0, value-1, …), and one turn of its event loop. */
async function produce(ctx: Awaited<ReturnType<typeof pipelined>>, value: string, count = 1): Promise<void> {
  ctx.c.append(ctx.b1, ctx.rep, count === 1 ? [value] : Array.from({ length: count }, (_, i) => `${value}-${i}`));
  await ctx.c.time.advance(0);
}

/** A batch big enough that the frame carrying it lets the next one go ahead (BULK_RECORDS). */
const BULK = BULK_RECORDS;
/** "offset:epoch" for offsets from..to-1, as Replica.held() writes them. */
const span = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${from + i}:1`);

describe('replication: pipelining on a stream (FollowerSession)', () => {
  test('frames go ahead of their answers behind big frames, each starting where the previous one ended', async () => {
    const ctx = await pipelined(['a', 'b']);
    await produce(ctx, 'c', BULK);
    await produce(ctx, 'd', BULK);
    await produce(ctx, 'e');
    assert.deepEqual(
      ctx.stream.sent.map((s) => s.prevOffset),
      [2, 2 + BULK, 2 + 2 * BULK],
      'three frames in flight, each from where the previous one ended',
    );
    assert.equal(ctx.stream.frames.length, 3);
  });

  test('records go ahead of a frame that carries none (the high-water mark after a commit), not of small frames with records', async () => {
    const ctx = await pipelined(['a']);
    await produce(ctx, 'b');
    await ctx.stream.answer(); // b committed: the new high-water mark waits for records to ride with
    assert.deepEqual(ctx.stream.sent.map((s) => [s.prevOffset, s.length > 0]), [[1, true]]);
    await ctx.c.time.advance(HWM_HOLD_MS); // none came: it goes alone, no records
    assert.deepEqual(ctx.stream.sent.map((s) => [s.prevOffset, s.length > 0]), [[1, true], [2, false]]);
    await produce(ctx, 'c');
    assert.equal(ctx.stream.frames.length, 2, 'c went without waiting for that answer');
    await produce(ctx, 'd');
    await produce(ctx, 'e');
    assert.equal(ctx.stream.frames.length, 2, 'd and e wait for the frame carrying c: one frame for both, not one each');
    await ctx.stream.answer();
    await ctx.stream.answer();
    assert.deepEqual(ctx.stream.sent.at(-1), { prevOffset: 3, length: ctx.stream.sent.at(-1)!.length, via: 'stream' });
    while (ctx.stream.frames.length > 0) await ctx.stream.answer();
    assert.deepEqual(ctx.b2.held(), span(0, 5));
    assert.equal(ctx.b1.log.highWatermark(), 5);
  });

  test('the high-water mark after a commit waits (up to HWM_HOLD_MS) for records and rides with them', async () => {
    const ctx = await pipelined(['a']);
    await produce(ctx, 'b');
    await ctx.stream.answer(); // b committed on the leader
    assert.equal(ctx.b1.log.highWatermark(), 2);
    await ctx.c.time.advance(HWM_HOLD_MS - 1);
    assert.equal(ctx.stream.frames.length, 0, 'no frame for the high-water mark alone yet');
    assert.equal(ctx.b2.log.highWatermark(), 1, 'the follower has not been told');
    await produce(ctx, 'c');
    assert.deepEqual(ctx.stream.sent.map((s) => [s.prevOffset, s.length > 0]), [[1, true], [2, true]], 'one frame: c and the high-water mark');
    await ctx.stream.deliver();
    assert.equal(ctx.b2.log.highWatermark(), 2, 'the follower learnt it with c');
    await ctx.stream.answer();
    assert.equal(ctx.b1.log.highWatermark(), 3, 'c committed on its answer');
  });

  test('one frame at a time on a stream (limit 1): the high-water mark still waits for records and rides with them; the next frame does not wait for more records', async () => {
    const ctx = await pipelined(['a'], 1);
    await produce(ctx, 'b');
    await ctx.stream.answer(); // b committed on the leader; its high-water mark waits for records
    assert.equal(ctx.b1.log.highWatermark(), 2);
    assert.equal(ctx.stream.frames.length, 0, 'no frame for the high-water mark alone');
    await produce(ctx, 'c');
    assert.deepEqual(ctx.stream.sent.map((s) => [s.prevOffset, s.length > 0]), [[1, true], [2, true]], 'c went at once, with the high-water mark');
    await ctx.stream.deliver();
    assert.equal(ctx.b2.log.highWatermark(), 2, 'the follower learnt it with c');
    await produce(ctx, 'd'); // one frame at a time: d and e wait for c's answer
    await produce(ctx, 'e');
    assert.equal(ctx.stream.frames.length, 1);
    await ctx.stream.answer(); // c committed; d and e go at once
    assert.equal(ctx.b1.log.highWatermark(), 3);
    assert.equal(ctx.stream.frames.length, 1);
    await ctx.stream.answer(); // d and e committed: the next frame does not wait for more records
    assert.equal(ctx.b1.log.highWatermark(), 5);
    await produce(ctx, 'f');
    assert.equal(ctx.stream.frames.length, 1, 'f went at once');
    assert.equal(decodeFrame(ctx.stream.frames[0]!.body).header.parts[0]!.prevOffset, 5);
    await ctx.stream.answer();
    assert.equal(ctx.b1.log.highWatermark(), 6);
    // Nothing more is produced: the high-water mark is held, then goes alone after HWM_HOLD_MS.
    await ctx.c.time.advance(HWM_HOLD_MS - 1);
    assert.equal(ctx.stream.frames.length, 0);
    await ctx.c.time.advance(1);
    assert.equal(ctx.stream.frames.length, 1, 'the high-water mark went alone after HWM_HOLD_MS');
    await ctx.stream.deliver();
    assert.equal(ctx.b2.log.highWatermark(), 6);
  });

  test('no more frames in flight than the stream allows', async () => {
    const ctx = await pipelined([], 2);
    for (const v of ['a', 'b', 'c', 'd']) await produce(ctx, v, BULK);
    assert.equal(ctx.stream.frames.length, 2);
    while (ctx.stream.frames.length > 0) await ctx.stream.answer();
    assert.deepEqual(ctx.b2.held(), span(0, 4 * BULK));
    assert.equal(ctx.b1.log.highWatermark(), 4 * BULK);
  });

  test('the high-water mark moves only on answers, in the order the frames were sent', async () => {
    const ctx = await pipelined(['a']);
    await produce(ctx, 'b', BULK);
    await produce(ctx, 'c');
    await ctx.stream.deliver();
    assert.deepEqual(ctx.b2.held(), span(0, BULK + 2), 'the follower applied both frames');
    assert.equal(ctx.b1.log.highWatermark(), 1, 'nothing more is committed before an answer says so');
    await ctx.stream.answer();
    assert.equal(ctx.b1.log.highWatermark(), 1 + BULK);
    await ctx.stream.answer();
    assert.equal(ctx.b1.log.highWatermark(), 2 + BULK);
  });

  test('a mismatch answer forgets the frames sent after it, and sending resumes where the follower really ends', async () => {
    const ctx = await pipelined(['a', 'b', 'c']);
    // The follower lost its last record behind the leader's back (an unsynced write, say): frames
    // continuing from 3 no longer fit.
    ctx.b2.sim.truncateTo(2);
    await produce(ctx, 'd', BULK);
    await produce(ctx, 'e');
    assert.deepEqual(ctx.stream.sent.map((s) => s.prevOffset), [3, 3 + BULK]);
    await ctx.stream.answer(); // mismatch: b2 ends at 2
    assert.equal(ctx.b1.log.highWatermark(), 3, 'a mismatch commits nothing');
    assert.deepEqual(Object.values(ctx.rep.replicaProgress()[0]!.partitions), [2], 'the follower is known to hold 2 records');
    assert.equal(ctx.stream.sent[2]?.prevOffset, 2, 'resent at once from the follower\'s log end, the frame after the mismatch forgotten');
    await ctx.stream.answer(); // the forgotten frame's answer (a mismatch too): ignored
    assert.equal(ctx.b1.log.highWatermark(), 3);
    while (ctx.stream.frames.length > 0) await ctx.stream.answer();
    assert.deepEqual(ctx.b2.held(), span(0, 4 + BULK));
    assert.equal(ctx.b1.log.highWatermark(), 4 + BULK);
  });

  test('a broken stream with frames in flight: sending resumes from the last answer; frames the follower applied are not applied twice', async () => {
    const ctx = await pipelined(['a', 'b']);
    await produce(ctx, 'c', BULK);
    await produce(ctx, 'd');
    assert.equal(ctx.stream.frames.length, 2);
    await ctx.stream.deliver(); // applied, answers lost with the connection
    ctx.stream.break();
    await ctx.c.time.advance(0);
    assert.equal(ctx.b1.log.highWatermark(), 2, 'applied but unanswered records are not committed');
    await ctx.c.time.advance(RENEW_MS); // the back-off, then frames by POST
    const resent = ctx.stream.sent.slice(2);
    assert.equal(resent[0]?.prevOffset, 2, 'resent from the last acknowledged offset');
    assert.equal(resent[0]?.via, 'post', 'one frame at a time without the stream');
    assert.deepEqual(ctx.b2.held(), span(0, 3 + BULK), 'each record once');
    assert.equal(ctx.b1.log.highWatermark(), 3 + BULK);
  });

  test('a follower that moved to a newer epoch answers STALE_EPOCH: the leader learns it and sends nothing more', async () => {
    const ctx = await pipelined(['a']);
    await produce(ctx, 'b', BULK);
    await produce(ctx, 'c');
    assert.equal(ctx.stream.frames.length, 2);
    ctx.b2.epoch = 7;
    await ctx.stream.answer();
    await ctx.c.time.advance(0);
    assert.deepEqual(ctx.c.staleEpochs, [7]);
    assert.equal(ctx.b1.log.highWatermark(), 1);
    assert.deepEqual(ctx.b2.held(), ['0:1']);
  });

  test('over POSTs (no stream) one frame at a time, as before streams', async () => {
    const ctx = await pipelined([]);
    ctx.stream.open = false;
    for (const v of ['a', 'b', 'c']) await produce(ctx, v);
    await ctx.c.time.advance(RENEW_MS);
    assert.ok(ctx.stream.sent.every((s) => s.via === 'post'));
    assert.deepEqual(ctx.b2.held(), ['0:1', '1:1', '2:1']);
    assert.equal(ctx.b1.log.highWatermark(), 3);
  });

  test('a frame received again after it was applied changes nothing: the follower answers where its log ends', async () => {
    const ctx = await pipelined(['a']);
    await produce(ctx, 'b');
    const again = ctx.stream.frames[0]!;
    await ctx.stream.answer();
    const answer = decodeAnswer(splitAnswer(await ctx.b2.follower.handle(again.body, again.auth)).answer);
    assert.ok(answer.ok);
    assert.equal(answer.parts[0]?.status, 'mismatch', 'the frame no longer continues its log');
    assert.equal(answer.parts[0]?.logEndOffset, 2, 'it says where its log ends, so the leader resumes there (resumeAfterMismatch: nothing to cut)');
    assert.deepEqual(ctx.b2.held(), ['0:1', '1:1'], 'not appended twice');
  });
});
