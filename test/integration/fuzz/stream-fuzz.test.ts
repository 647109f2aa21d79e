import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { encodeRecords } from '../../../broker-runtime/src/log/record-codec.js';
import { signFrame } from '../../../broker-runtime/src/replication/frame-auth.js';
import { encodeMessage } from '../../../broker-runtime/src/replication/stream-framing.js';
import { encodeFrame } from '../../../broker-runtime/src/replication/wire.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { post } from '../../../testkit/http.js';
import { RawReplicaStream } from '../../../testkit/replica-stream.js';
import { sleep, waitFor } from '../../../testkit/wait.js';
import { diffStates, logState, memoryMb, type LogState } from './observe.js';

/**
 * The replication stream (GET /replica/stream, Upgrade: yak-replication/1) fuzzed by a peer that
 * can reach every broker's port but not Redis: after a successful upgrade it sends random bytes,
 * or framed messages carrying forged replication frames (current, next, stale epochs; records and
 * truncations; signed with a random key, a made-up MAC or none), whole or mutated (bytes flipped,
 * cut short, spliced, lengths and meta lengths rewritten), in random chunks. The invariants: no
 * answer is a 200 (no frame obeyed), no broker dies or grows past RSS_LIMIT_MB, no log changes on
 * any broker, and the cluster keeps serving produces (by its own streams) meanwhile.
 *
 * FUZZ_RUNS (default 150) sets the runs; FUZZ_SEED replays a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const TOPIC = 'stream-fuzz';
const RSS_LIMIT_MB = 300;
const SENTINEL = 0xfffffff0;

/** A forged replication frame: records for `topic` at random offsets, maybe a truncation. */
function forgedFrame(epoch: number, partition: number, prevOffset: number, truncateTo: number | null): Buffer {
  const records = encodeRecords([{ key: null, payload: JSON.stringify({ forged: true }), headers: {}, timestamp: Date.now() }], prevOffset, Math.min(epoch, 2 ** 32 - 1));
  return encodeFrame(
    {
      epoch,
      leader: { id: 'fuzz', url: 'http://127.0.0.1:1' },
      metaVersion: 'forged',
      parts: [{ topic: TOPIC, partition, prevOffset, prevEpoch: -1, hwm: prevOffset + 1, length: records.length, ...(truncateTo !== null ? { truncateTo, truncateEpoch: -1 } : {}) }],
    },
    [records],
  );
}

type Mutation = { kind: 'none' } | { kind: 'flip'; at: number; xor: number } | { kind: 'cut'; at: number } | { kind: 'splice'; at: number; bytes: Uint8Array } | { kind: 'length'; value: number } | { kind: 'metaLength'; value: number };

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const b = Buffer.from(bytes);
  switch (m.kind) {
    case 'none':
      return b;
    case 'flip':
      b[m.at % b.length]! ^= m.xor;
      return b;
    case 'cut':
      return b.subarray(0, m.at % b.length);
    case 'splice': {
      const at = m.at % b.length;
      return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    }
    case 'length':
      b.writeUInt32BE(m.value, 0);
      return b;
    case 'metaLength':
      b.writeUInt16BE(m.value, 8);
      return b;
  }
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.constant<Mutation>({ kind: 'none' }), weight: 4 },
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.constantFrom(0, 1, 5, 6, 2 ** 32 - 1, 2 ** 31), fc.nat({ max: 5000 })) }),
  fc.record({ kind: fc.constant('metaLength' as const), value: fc.oneof(fc.constantFrom(0, 255, 256, 257, 65535), fc.nat({ max: 600 })) }),
);

/** One message as a hostile peer would build it, given the epoch the cluster is at. */
const message = (epoch: number): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    fc
      .record({
        id: fc.oneof(fc.constantFrom(0, 1, 2 ** 32 - 1), fc.nat()),
        epoch: fc.constantFrom(epoch, epoch + 1, epoch + 1000, Math.max(1, epoch - 1), 2 ** 32 - 1),
        partition: fc.nat({ max: 2 }),
        prevOffset: fc.nat({ max: 20 }),
        truncateTo: fc.option(fc.nat({ max: 20 })),
        auth: fc.constantFrom('random-key', 'made-up', 'none', 'garbage', 'long'),
        mutation,
      })
      .map((r) => {
        const frame = forgedFrame(r.epoch, r.partition, r.prevOffset, r.truncateTo);
        const auth =
          r.auth === 'random-key' ? signFrame(r.epoch, randomBytes(32), frame)
          : r.auth === 'made-up' ? `${r.epoch}.${randomBytes(32).toString('base64url')}`
          : r.auth === 'none' ? ''
          : r.auth === 'long' ? 'x'.repeat(256)
          : '\u00ff\u0000garbage';
        return mutate(Buffer.concat(encodeMessage(r.id, auth, frame)), r.mutation);
      }),
  );

describe('replication stream fuzzing against 3 real brokers', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  let epoch: number;
  let state: LogState;
  let produced = 0;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, partitions: 3, leaseSeconds: 5, renewSeconds: 1 });
    const leader = await cluster.waitForLeader();
    epoch = leader.epoch;
    for (let p = 0; p < 3; p++) await produce(p);
    state = await settled();
  });
  after(async () => cluster?.stop());

  async function produce(partition: number): Promise<void> {
    const { broker } = await cluster.waitForLeader();
    const r = await post(broker.url, '/produce', { topic: TOPIC, partition, payload: { n: produced } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    produced++;
  }

  /** The leader's state, once every broker holds the same. */
  async function settled(): Promise<LogState> {
    const { broker } = await cluster.waitForLeader();
    const want = await logState(broker.url);
    for (const b of cluster.brokers) {
      await waitFor(`${b.id} to match the leader`, async () => diffStates(await logState(b.url), want).length === 0, 15_000, 100);
    }
    return want;
  }

  test('random and mutated forged byte streams after a successful upgrade: nothing obeyed, nothing stored, no broker down', async (t) => {
    let answers = 0;
    let closedByBroker = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 2 }),
        fc.array(message(epoch), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 }),
        async (target, messages, cuts) => {
          const broker = cluster.brokers[target]!;
          const s = await RawReplicaStream.open(broker.url);
          const bytes = Buffer.concat(messages);
          // Random chunking: the framing must not depend on how TCP cuts the stream.
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]! * 7;
            s.write(bytes.subarray(at, at + n));
            at += n;
          }
          // Then one well-formed unsigned message: when the stream is still in step it is answered
          // (401) after everything before it was read. Wait for that or for the broker to close
          // the stream, at most a second (a stream left mid-message waits for more): no assertion
          // depends on how long it takes.
          s.send(SENTINEL, '', Buffer.from('sentinel'));
          const end = Date.now() + 1000;
          while (!s.closed && !s.answers.some((a) => a.id === SENTINEL) && Date.now() < end) await sleep(5);
          for (const a of s.answers) assert.notEqual(a.meta.toString('latin1'), '200', `${broker.id} obeyed frame ${a.id}: ${a.body.toString('utf8').slice(0, 200)}`);
          answers += s.answers.length;
          if (s.closed) closedByBroker++;
          s.close();
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    t.diagnostic(`seed ${SEED}; ${answers} answers (none 200), ${closedByBroker} of ${RUNS} streams closed by the broker`);

    for (const b of cluster.brokers) {
      assert.ok(b.running(), `${b.id} died:\n${b.tail()}`);
      const mem = memoryMb(b.pid!);
      assert.ok(mem.rss < RSS_LIMIT_MB, `${b.id} uses ${mem.rss} MB`);
    }
    assert.equal((await cluster.waitForLeader()).epoch, epoch, 'no broker learned a forged epoch');
    assert.deepEqual(diffStates(await settled(), state), [], 'no log changed');
    // The cluster still replicates (by its own streams): a produce reaches every broker.
    await produce(1);
    const want = new Map(state);
    const k = `${TOPIC}/1`;
    want.set(k, { hwm: state.get(k)!.hwm + 1, leo: state.get(k)!.leo + 1 });
    assert.deepEqual(diffStates(await settled(), want), [], 'the produce after the fuzzing reached every broker');
  });
});
