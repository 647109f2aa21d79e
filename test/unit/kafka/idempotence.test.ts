import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import type { KafkaBackend } from '../../../broker-runtime/src/kafka/backend.js';
import { idempotenceOf } from '../../../broker-runtime/src/kafka/idempotence/index.js';
import { MAX_BROKER_PRODUCERS, MAX_PRODUCERS, PartitionProducers, type Written } from '../../../broker-runtime/src/kafka/idempotence/partition-producers.js';
import { producerOf } from '../../../broker-runtime/src/kafka/idempotence/produce-idempotent.js';
import { IDS_PER_EPOCH, producerIdOf } from '../../../broker-runtime/src/kafka/idempotence/producer-ids.js';
import { encodeMarker, parseMarker, PRODUCER_MARKER, type ProducerBatch } from '../../../broker-runtime/src/kafka/idempotence/producer-marker.js';
import { KafkaError } from '../../../broker-runtime/src/kafka/protocol/error-codes.js';
import type { DecodedBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import type { PartitionLog } from '../../../broker-runtime/src/log/types.js';
import { logOptions, tempDir } from '../log/helpers.js';

const P = 1 * IDS_PER_EPOCH + 7;
const batch = (baseSequence: number, count: number, producerEpoch = 0, producerId = P): ProducerBatch => ({ producerId, producerEpoch, baseSequence, count });

/** What Produce does for an accepted batch: reserve in the same step as the append, then settle. */
async function append(table: PartitionProducers, log: PartitionLog, b: ProducerBatch, leaderEpoch = 1): Promise<Written> {
  const settle = table.reserve(b);
  const records = Array.from({ length: b.count }, (_, i) => ({ key: null, payload: String(b.baseSequence + i), headers: (i === 0 ? { [PRODUCER_MARKER]: encodeMarker(b) } : {}) as Record<string, string>, timestamp: Date.now() }));
  const w = await log.append(records, leaderEpoch);
  settle(w);
  return w;
}

const refusedWith = (name: string) => (err: unknown) => err instanceof KafkaError && err.kafka === name;

describe('idempotent producers: sequence rules and the state a new leader rebuilds from its log', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let log: PartitionLog;

  before(async () => {
    ({ dir, cleanup } = await tempDir('yak-idem-'));
    log = await openPartitionLog(dir, 't', 0, logOptions());
  });
  after(async () => {
    await log.close();
    await cleanup();
  });

  it('a retried batch is a duplicate with its original offsets; a gap and an old epoch are refused; nothing is appended for them', async () => {
    const table = new PartitionProducers(log);
    await table.ready(1);
    assert.equal(table.check(batch(0, 3)).kind, 'append');
    const first = await append(table, log, batch(0, 3));
    const second = await append(table, log, batch(3, 2));
    assert.deepEqual([first, second], [{ baseOffset: 0, lastOffset: 2 }, { baseOffset: 3, lastOffset: 4 }]);

    const again = table.check(batch(0, 3));
    assert.equal(again.kind, 'duplicate');
    assert.deepEqual(await (again as { written: Promise<Written> }).written, first, 'an older retained batch is a duplicate too');
    assert.throws(() => table.check(batch(6, 1)), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'), 'a gap (5 expected)');
    assert.throws(() => table.check(batch(3, 1)), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'), 'same start, other length: not the same batch');
    assert.throws(() => table.reserve(batch(6, 1)), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'), 'the reservation checks again');
    assert.equal(log.logEndOffset(), 5, 'refusals appended nothing');
    assert.equal(table.check(batch(5, 1)).kind, 'append', 'the refusals did not move the expected sequence');

    await append(table, log, batch(0, 1, 1));
    assert.throws(() => table.check(batch(5, 1, 0)), refusedWith('INVALID_PRODUCER_EPOCH'));
    assert.throws(() => table.check(batch(4, 1, 2)), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'), 'a new epoch starts at 0');
    assert.equal(table.check(batch(7, 1, 0, P + 1)).kind, 'append', 'an unknown producer may start anywhere (as Kafka once its state is gone)');
  });

  it('a new leader (a fresh table over the same log, another epoch) finds the last batches in the log', async () => {
    const before = log.logEndOffset();
    const old = new PartitionProducers(log);
    await old.ready(1);
    const other = batch(0, 2, 0, P + 2);
    const w = await append(old, log, other);
    await log.append([{ key: null, payload: '"rest"', headers: {}, timestamp: Date.now() }], 1); // a REST record between
    const last = await append(old, log, batch(2, 4, 0, P + 2));
    assert.equal(w.baseOffset, before);

    const fresh = new PartitionProducers(log);
    await fresh.ready(2);
    const dup = fresh.check(batch(2, 4, 0, P + 2));
    assert.equal(dup.kind, 'duplicate');
    assert.deepEqual(await (dup as { written: Promise<Written> }).written, last);
    assert.throws(() => fresh.check(batch(7, 1, 0, P + 2)), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    assert.equal(fresh.check(batch(6, 1, 0, P + 2)).kind, 'append');
    assert.throws(() => fresh.check(batch(0, 1, 0)), refusedWith('INVALID_PRODUCER_EPOCH'), 'producer P moved to epoch 1 in the first test');

    // The same table is rebuilt when this broker leads under another epoch.
    assert.equal(old.ready(1), null, 'current for epoch 1');
    assert.notEqual(old.ready(3), null, 'rebuilt for epoch 3');
  });

  it('an append that fails leaves the table to be rebuilt from the log before the next check', async () => {
    const table = new PartitionProducers(log);
    await table.ready(1);
    const settle = table.reserve(batch(0, 1, 0, P + 3));
    settle(null);
    const pending = table.ready(1);
    assert.notEqual(pending, null);
    await pending;
    assert.equal(table.check(batch(5, 1, 0, P + 3)).kind, 'append', 'nothing of it is in the log: unknown again');
  });
});

describe('idempotent producers: memory', () => {
  it('a client inventing producer ids on every partition fills one broker-wide budget, not MAX_PRODUCERS per partition', async () => {
    // Any producer id is taken (none has to come from InitProducerId): 10,000 invented ids on each of
    // 1,000 partitions were 10 million remembered producers, gigabytes. Now the broker remembers
    // MAX_BROKER_PRODUCERS in all, forgetting the one unused longest, wherever it is.
    const { dir, cleanup } = await tempDir('yak-idem-mem-');
    const logs: PartitionLog[] = [];
    try {
      const state = idempotenceOf({} as KafkaBackend);
      const partitions = Math.ceil((MAX_BROKER_PRODUCERS * 1.2) / MAX_PRODUCERS);
      const tables: PartitionProducers[] = [];
      for (let p = 0; p < partitions; p++) {
        const log = await openPartitionLog(join(dir, `t-${p}`), 't', p, logOptions());
        logs.push(log);
        const table = state.producers(log);
        await table.ready(1);
        tables.push(table);
        for (let i = 0; i < MAX_PRODUCERS; i++) {
          const settle = table.reserve(batch(0, 1, 0, P + i));
          settle({ baseOffset: i, lastOffset: i });
        }
      }
      const remembered = tables.reduce((n, t) => n + t.size, 0);
      assert.ok(remembered <= MAX_BROKER_PRODUCERS, `${remembered} producers remembered over ${partitions} partitions`);
      assert.equal(tables[0]!.check(batch(5, 1, 0, P)).kind, 'append', 'the producer unused longest (first on partition 0) is forgotten: judged as new');
      assert.throws(() => tables.at(-1)!.check(batch(5, 1, 0, P + MAX_PRODUCERS - 1)), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'), 'the last one used is still known');
      assert.equal(tables.at(-1)!.check(batch(0, 1, 0, P + MAX_PRODUCERS - 1)).kind, 'duplicate');
    } finally {
      for (const l of logs) await l.close();
      await cleanup();
    }
  });
});

describe('producer markers', () => {
  it('round-trip, and anything malformed is ignored rather than trusted', () => {
    const b = batch(2147483646, 3, 4);
    assert.deepEqual(parseMarker(encodeMarker(b)), b);
    for (const bad of [undefined, '', '1 2 3', '1 2 3 0', '-1 0 0 1', '1 99999 0 1', '1 0 2147483648 1', '1 0 0 1 5', 'x 0 0 1']) {
      assert.equal(parseMarker(bad), null, String(bad));
    }
  });

  it('sequences wrap at 2^31 - 1 to 0, as Kafka does', async () => {
    const { dir, cleanup } = await tempDir('yak-idem-wrap-');
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    try {
      const table = new PartitionProducers(log);
      await table.ready(1);
      await append(table, log, batch(2147483646, 2));
      assert.equal(table.check(batch(0, 1)).kind, 'append');
      assert.throws(() => table.check(batch(1, 1)), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    } finally {
      await log.close();
      await cleanup();
    }
  });
});

describe('producerOf', () => {
  const decoded = (producerId: number, producerEpoch: number, baseSequence: number, n: number): DecodedBatch => ({ baseOffset: 0, producerId, producerEpoch, baseSequence, codec: 'none', records: Array.from({ length: n }, () => ({ timestamp: 0, key: null, value: null, headers: [] })) });

  it('judges consecutive batches of one producer as one, and refuses mixtures', () => {
    assert.equal(producerOf([decoded(-1, -1, -1, 2)]), null);
    assert.deepEqual(producerOf([decoded(9, 0, 4, 2), decoded(9, 0, 6, 3)]), batch(4, 5, 0, 9));
    assert.throws(() => producerOf([decoded(9, 0, 4, 2), decoded(9, 0, 7, 1)]), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    assert.throws(() => producerOf([decoded(9, 0, 4, 2), decoded(-1, -1, -1, 1)]), refusedWith('INVALID_RECORD'));
    assert.throws(() => producerOf([decoded(9, 0, 4, 2), decoded(8, 0, 6, 1)]), refusedWith('INVALID_RECORD'));
    assert.throws(() => producerOf([decoded(9, -1, 4, 2)]), refusedWith('INVALID_RECORD'));
  });
});

describe('producer ids', () => {
  it('are unique across leaderships: the epoch is in the high bits', () => {
    const ids = new Set([producerIdOf({ epoch: 5, n: 0 }), producerIdOf({ epoch: 5, n: 1 }), producerIdOf({ epoch: 6, n: 0 }), producerIdOf({ epoch: 6, n: 1 }), producerIdOf({ epoch: 7, n: 0 })]);
    assert.equal(ids.size, 5);
    assert.equal(producerIdOf({ epoch: 7, n: 1 }), 7 * IDS_PER_EPOCH + 1);
    assert.ok(Number.isSafeInteger(producerIdOf({ epoch: 0xffffffff, n: IDS_PER_EPOCH - 1 })), 'the largest id is exact');
  });

  it('past 2^20 in one epoch, none is given (COORDINATOR_NOT_AVAILABLE) rather than one of the next epoch', () => {
    assert.throws(() => producerIdOf({ epoch: 5, n: IDS_PER_EPOCH }), /all 1048576 producer ids/);
  });
});

describe('idempotent producers: property', () => {
  it('after any run of batches, a table rebuilt from the log judges every batch as the table that followed the appends does', async () => {
    const fc = (await import('fast-check')).default;
    const op = fc.record({ pid: fc.integer({ min: 0, max: 2 }), epoch: fc.integer({ min: 0, max: 1 }), seq: fc.integer({ min: 0, max: 6 }), count: fc.integer({ min: 1, max: 3 }) });
    const verdictOf = (t: PartitionProducers, b: ProducerBatch): string => {
      try {
        const v = t.check(b);
        return v.kind;
      } catch (err) {
        return (err as KafkaError).kafka;
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const { dir, cleanup } = await tempDir('yak-idem-prop-');
        const log = await openPartitionLog(dir, 't', 0, logOptions());
        try {
          const live = new PartitionProducers(log);
          await live.ready(1);
          const appended = new Set<string>();
          for (const o of ops) {
            const b = batch(o.seq, o.count, o.epoch, P + o.pid);
            const v = verdictOf(live, b);
            if (v === 'append') {
              await append(live, log, b);
              const key = `${b.producerId}/${b.producerEpoch}/${b.baseSequence}/${b.count}`;
              // A batch (producer, epoch, sequences) is never appended twice.
              assert.ok(!appended.has(key), `appended twice: ${key}`);
              appended.add(key);
            }
          }
          const rebuilt = new PartitionProducers(log);
          await rebuilt.ready(2);
          for (let pid = 0; pid <= 2; pid++) {
            for (let epoch = 0; epoch <= 1; epoch++) {
              for (let seq = 0; seq <= 9; seq++) {
                for (let count = 1; count <= 3; count++) {
                  const b = batch(seq, count, epoch, P + pid);
                  assert.equal(verdictOf(rebuilt, b), verdictOf(live, b), JSON.stringify(b));
                }
              }
            }
          }
        } finally {
          await log.close();
          await cleanup();
        }
      }),
      { numRuns: 60 },
    );
  });
});
