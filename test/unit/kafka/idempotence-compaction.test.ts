import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { PartitionProducers } from '../../../broker-runtime/src/kafka/idempotence/partition-producers.js';
import { encodeMarker, PRODUCER_MARKER, type ProducerBatch } from '../../../broker-runtime/src/kafka/idempotence/producer-marker.js';
import { LATEST_WINS, TOMBSTONE_PAYLOAD } from '../../../broker-runtime/src/log/compaction.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import type { FilePartitionLog } from '../../../broker-runtime/src/log/partition-log.js';
import type { RecordInput, StoredRecord } from '../../../broker-runtime/src/log/types.js';
import { logOptions, tempDir } from '../log/helpers.js';

/**
 * Compaction (cleanup.policy=compact) and idempotent producers: a new leader rebuilds the
 * producers' state from the `yak.producer` markers of its log, so compaction must leave a log from
 * which the same state is rebuilt — even when every marker's record was superseded by a later
 * record of its key (security review: a retried batch was appended twice after a failover).
 */

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const P = 1 << 20;

/** An idempotent batch as the Kafka listener stores it: the marker on its first record. */
function idempotent(b: ProducerBatch, keys: string[], payload = (i: number) => JSON.stringify(`${b.producerId}/${b.baseSequence + i}`)): RecordInput[] {
  return keys.map((key, i) => ({ key, payload: payload(i), headers: (i === 0 ? { [PRODUCER_MARKER]: encodeMarker(b) } : {}) as Record<string, string>, timestamp: NOW - 1000 }));
}

const plain = (key: string | null, payload: string): RecordInput => ({ key, payload, headers: {}, timestamp: NOW - 1000 });

async function everything(log: FilePartitionLog): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (let next = log.logStartOffset(); next < log.highWatermark(); ) {
    const got = await log.read(next, log.highWatermark(), 500, 1 << 22);
    if (got.length === 0) break;
    out.push(...got);
    next = got[got.length - 1]!.offset + 1;
  }
  return out;
}

/** What a reader folding the whole log sees: each key's latest payload, deleted keys absent. */
function folded(records: StoredRecord[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of records) {
    const k = r.key ?? `#${r.offset}`;
    if (r.payload === TOMBSTONE_PAYLOAD) m.delete(k);
    else m.set(k, r.payload);
  }
  return m;
}

/** The producer state a new leader (a fresh table, a new leader epoch) rebuilds from `log`. */
async function rebuilt(log: FilePartitionLog, epoch: number) {
  const table = new PartitionProducers(log);
  await table.ready(epoch);
  return table.snapshot();
}

/** Enough keyless filler that every record before it lies in a closed segment, all committed. */
async function closeSegments(log: FilePartitionLog): Promise<void> {
  for (let i = 0; i < 8; i++) await log.append([plain(null, JSON.stringify('filler '.repeat(30)))], 1);
  log.setHighWatermark(log.logEndOffset());
}

describe('log compaction keeps what idempotent producers are rebuilt from', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('yak-idem-compact-')));
  afterEach(() => cleanup());

  it('a marker whose record is superseded by a later record of its key stays: the rebuilt state is the same, the retried last batch is a duplicate', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 1500, indexIntervalBytes: 200 }));
    // Producer P: 8 batches (more than the 5 a table remembers), each writing k0, k1, k2.
    // Producer P+1: two batches in epoch 0, then one in epoch 1. Producer P+2: one batch.
    // Later plain records of the same keys supersede every one of their records.
    let seq = 0;
    let last!: { baseOffset: number; lastOffset: number };
    for (let n = 0; n < 8; n++) {
      last = await log.append(idempotent({ producerId: P, producerEpoch: 0, baseSequence: seq, count: 3 }, ['k0', 'k1', 'k2']), 1);
      seq += 3;
    }
    await log.append(idempotent({ producerId: P + 1, producerEpoch: 0, baseSequence: 0, count: 2 }, ['k0', 'k3']), 1);
    await log.append(idempotent({ producerId: P + 1, producerEpoch: 0, baseSequence: 2, count: 1 }, ['k3']), 1);
    await log.append(idempotent({ producerId: P + 1, producerEpoch: 1, baseSequence: 0, count: 2 }, ['k3', 'k1']), 1);
    await log.append(idempotent({ producerId: P + 2, producerEpoch: 3, baseSequence: 9, count: 1 }, ['k2']), 1);
    for (let n = 0; n < 3; n++) await log.append(['k0', 'k1', 'k2', 'k3'].map((k) => plain(k, JSON.stringify(`plain ${n}`))), 1);
    await closeSegments(log);

    const before = await everything(log);
    const stateBefore = await rebuilt(log, 2);
    assert.equal(stateBefore.length, 3);

    const report = await log.compact(LATEST_WINS, { nowMs: NOW, deleteRetentionMs: DAY });
    assert.ok(report.removed > 0, `compaction removed superseded records: ${JSON.stringify(report)}`);
    const after = await everything(log);
    assert.ok(after.length < before.length);
    assert.deepEqual(folded(after), folded(before), 'every key reads the same');
    assert.deepEqual(await rebuilt(log, 3), stateBefore, 'a new leader rebuilds the same producer state');

    // The producer's retry of its last batch after a failover: answered with its original offsets, not appended.
    const table = new PartitionProducers(log);
    await table.ready(4);
    const verdict = table.check({ producerId: P, producerEpoch: 0, baseSequence: seq - 3, count: 3 });
    assert.equal(verdict.kind, 'duplicate');
    assert.deepEqual(await (verdict as { written: Promise<unknown> }).written, last);
    assert.throws(() => table.check({ producerId: P, producerEpoch: 0, baseSequence: seq + 1, count: 1 }), /expected sequence/);

    // Only each producer's last 5 markers stay for their markers: P's first 3 batches are gone.
    const markers = after.filter((r) => r.headers[PRODUCER_MARKER]?.startsWith(`${P} `));
    assert.equal(markers.length, 5);
    // And a second pass keeps them (nothing new to remove).
    assert.equal((await log.compact(LATEST_WINS, { nowMs: NOW, deleteRetentionMs: DAY, force: true })).removed, 0);
    assert.deepEqual(await rebuilt(log, 5), stateBefore);
    await log.close();
  });

  it('a tombstone after a kept marker record stays past delete.retention.ms: the deleted key does not come back', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 1500, indexIntervalBytes: 200 }));
    await log.append(idempotent({ producerId: P, producerEpoch: 0, baseSequence: 0, count: 1 }, ['gone']), 1);
    await log.append([plain('gone', TOMBSTONE_PAYLOAD)], 1);
    await closeSegments(log);
    const before = await everything(log);
    const stateBefore = await rebuilt(log, 2);
    await log.compact(LATEST_WINS, { nowMs: NOW + 30 * DAY, deleteRetentionMs: DAY });
    const after = await everything(log);
    assert.equal(folded(after).has('gone'), false, 'the key stays deleted');
    assert.deepEqual(folded(after), folded(before));
    assert.deepEqual(await rebuilt(log, 3), stateBefore);
    await log.close();
  });

  it('property: after any run of idempotent batches, plain records and tombstones, compaction leaves the same rebuilt state and the same reads', async () => {
    const keys = ['a', 'b', 'c', 'd'];
    const step = fc.oneof(
      fc.record({ kind: fc.constant('batch' as const), producer: fc.integer({ min: 0, max: 2 }), newEpoch: fc.boolean(), keys: fc.array(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('plain' as const), key: fc.constantFrom(...keys, null), tombstone: fc.boolean() }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), fc.boolean(), async (steps, late) => {
        const { dir: d, cleanup: c } = await tempDir('yak-idem-compact-prop-');
        run++;
        try {
          const log = await openPartitionLog(d, 't', 0, logOptions({ segmentBytes: 600, indexIntervalBytes: 200 }));
          const producers = [0, 1, 2].map(() => ({ epoch: 0, seq: 0 }));
          for (const s of steps) {
            if (s.kind === 'plain') {
              await log.append([plain(s.key, s.tombstone && s.key !== null ? TOMBSTONE_PAYLOAD : JSON.stringify(`p${run}`))], 1);
              continue;
            }
            const p = producers[s.producer]!;
            if (s.newEpoch) p.epoch++, (p.seq = 0);
            await log.append(idempotent({ producerId: P + s.producer, producerEpoch: p.epoch, baseSequence: p.seq, count: s.keys.length }, s.keys), 1);
            p.seq += s.keys.length;
          }
          await closeSegments(log);
          const before = await everything(log);
          const stateBefore = await rebuilt(log, 2);
          // Now, or long after (tombstones past delete.retention.ms).
          await log.compact(LATEST_WINS, { nowMs: late ? NOW + 30 * DAY : NOW, deleteRetentionMs: DAY });
          assert.deepEqual(await rebuilt(log, 3), stateBefore);
          assert.deepEqual(folded(await everything(log)), folded(before));
          await log.close();
        } finally {
          await c();
        }
      }),
      {
        numRuns: 60,
        // Found by seed 372616275 (CI 2026-11-29): compaction dropped producer 1's first markers, and
        // the rebuilt state listed producer 0 first. Kept as a fixed case.
        examples: [
          [[
            { kind: 'batch', producer: 1, newEpoch: false, keys: ['a'] },
            { kind: 'batch', producer: 0, newEpoch: false, keys: ['a'] },
            ...Array.from({ length: 5 }, () => ({ kind: 'batch' as const, producer: 1, newEpoch: true, keys: ['a'] })),
          ], false],
        ],
      },
    );
  });
});
