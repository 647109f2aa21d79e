import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { crc32c } from '../../../broker-runtime/src/kafka/protocol/crc32c.js';
import { KafkaError } from '../../../broker-runtime/src/kafka/protocol/error-codes.js';
import { kafkaSnappyCompress, xerialSnappyCompress } from '../../../broker-runtime/src/kafka/protocol/snappy.js';
import { BATCH_OVERHEAD, decodeBatches, encodeBatch, type OutgoingRecord } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';

/**
 * Compressed Kafka batches (gzip, and lz4 in Kafka's LZ4 frame format) decode through the storage
 * codecs, snappy (raw as librdkafka sends it, xerial-framed as Java clients do) with the `snappy`
 * package; zstd is refused with 76; a batch that would decompress past the request's
 * budget is refused before (lz4) or while (gzip) inflating, never after allocating it all.
 */
const require = createRequire(import.meta.url);
const lz4 = require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: unknown) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: unknown) => unknown;

const RECORDS: OutgoingRecord[] = [
  { offset: 0, timestamp: 1000, key: Buffer.from('k1'), value: Buffer.from('{"a":1}'), headers: [{ key: Buffer.from('h'), value: Buffer.from('v') }] },
  { offset: 1, timestamp: 1005, key: null, value: Buffer.from([0xff, 0x00, 0x80]), headers: [] },
  { offset: 2, timestamp: 1001, key: Buffer.from(''), value: null, headers: [{ key: Buffer.from('n'), value: null }] },
];

/** A batch of `records` whose records section is compressed with `compress` under codec `id`, CRC fixed. */
function compressedBatch(records: readonly OutgoingRecord[], id: number, compress: (plain: Buffer) => Buffer): Buffer {
  const plain = encodeBatch(records, 0).toBuffer();
  const body = compress(plain.subarray(BATCH_OVERHEAD));
  const out = Buffer.concat([plain.subarray(0, BATCH_OVERHEAD), body]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(id, 21);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

const expected = RECORDS.map((r) => ({ timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers }));

test('a gzip batch and an lz4 frame batch decode to their records, and say which codec the producer used', () => {
  const [g] = decodeBatches(compressedBatch(RECORDS, 1, (b) => gzipSync(b)), 0);
  assert.equal(g!.codec, 'gzip');
  assert.deepEqual(g!.records, expected);
  const [l] = decodeBatches(compressedBatch(RECORDS, 3, (b) => lz4.compressFrameSync(b)), 0);
  assert.equal(l!.codec, 'lz4');
  assert.deepEqual(l!.records, expected);
});

test('a GZIP batch built by KafkaJS 2.2.4 own encoder decodes to the same records', async () => {
  const first = 1_700_000_000_000;
  const records = [
    Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('{"a":1}'.repeat(50)), headers: { h: Buffer.from('v') } }),
    Record({ offsetDelta: 1, timestampDelta: 3, key: null, value: Buffer.from([0xff, 0x00]), headers: {} }),
  ];
  const batch = await RecordBatch({ compression: 1, firstTimestamp: first, maxTimestamp: first + 3, lastOffsetDelta: 1, records });
  const [decoded] = decodeBatches(batch.buffer, 0);
  assert.equal(decoded!.codec, 'gzip');
  assert.deepEqual(decoded!.records, [
    { timestamp: first, key: Buffer.from('k1'), value: Buffer.from('{"a":1}'.repeat(50)), headers: [{ key: Buffer.from('h'), value: Buffer.from('v') }] },
    { timestamp: first + 3, key: null, value: Buffer.from([0xff, 0x00]), headers: [] },
  ]);
});

test('zstd (4) is refused with UNSUPPORTED_COMPRESSION_TYPE (76), unknown ids too', () => {
  for (const id of [4, 5, 7]) {
    assert.throws(() => decodeBatches(compressedBatch(RECORDS, id, (b) => b), 0), (e: unknown) => e instanceof KafkaError && e.code === 76, `codec ${id}`);
  }
});

test('a gzip bomb is refused with MESSAGE_TOO_LARGE once inflating passes the budget', () => {
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // ~64 KiB that inflate to 64 MiB
  const batch = compressedBatch(RECORDS, 1, () => bomb);
  assert.ok(batch.length < 100_000);
  assert.throws(() => decodeBatches(batch, 0, { left: 1024 * 1024 }), (e: unknown) => e instanceof KafkaError && e.kafka === 'MESSAGE_TOO_LARGE');
});

test('an lz4 frame whose blocks could decompress past the budget is refused before decompressing', () => {
  // 4 MiB blocks (BD 0x70), each a tiny compressed block: the frame bounds itself at 4 MiB a block.
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73]);
  const block = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x10, 0x41]);
  const frame = Buffer.concat([header, ...Array.from({ length: 100 }, () => block), Buffer.alloc(4)]);
  const batch = compressedBatch(RECORDS, 3, () => frame);
  assert.throws(() => decodeBatches(batch, 0, { left: 64 * 1024 * 1024 }), (e: unknown) => e instanceof KafkaError && e.kafka === 'MESSAGE_TOO_LARGE' && e.message.includes('419430400'));
});

test('one budget for a request: what the first batch inflated is not available to the next', () => {
  const big: OutgoingRecord[] = [{ offset: 0, timestamp: 1, key: null, value: Buffer.alloc(600, 0x61), headers: [] }];
  const budget = { left: 1000 };
  assert.equal(decodeBatches(compressedBatch(big, 1, (b) => gzipSync(b)), 0, budget)[0]!.records.length, 1);
  assert.ok(budget.left < 400);
  assert.throws(() => decodeBatches(compressedBatch(big, 3, (b) => lz4.compressFrameSync(b)), 0, budget), (e: unknown) => e instanceof KafkaError && e.kafka === 'MESSAGE_TOO_LARGE');
});

test('compressed bytes that are not gzip or not an lz4 frame are CORRUPT_MESSAGE', () => {
  for (const id of [1, 3]) {
    assert.throws(() => decodeBatches(compressedBatch(RECORDS, id, () => Buffer.from('not compressed at all')), 0), (e: unknown) => e instanceof KafkaError && e.kafka === 'CORRUPT_MESSAGE', `codec ${id}`);
  }
});

test('fuzz: a compressed batch with bytes changed (CRC fixed, so the codec sees them) decodes or is refused with a KafkaError — never anything else', () => {
  const batches = [
    compressedBatch(RECORDS, 1, (b) => gzipSync(b)),
    compressedBatch(RECORDS, 3, (b) => lz4.compressFrameSync(b)),
    compressedBatch(RECORDS, 2, kafkaSnappyCompress),
    compressedBatch(RECORDS, 2, (b) => xerialSnappyCompress(b, 16)),
  ];
  fc.assert(
    fc.property(fc.nat(batches.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (which, changes, cut) => {
      const valid = batches[which]!;
      const copy = Buffer.from(valid);
      for (const [at, byte] of changes) copy[BATCH_OVERHEAD + (at % (valid.length - BATCH_OVERHEAD))] = byte;
      const end = BATCH_OVERHEAD + (cut % (valid.length - BATCH_OVERHEAD + 1));
      const bytes = Buffer.from(copy.subarray(0, end));
      bytes.writeInt32BE(bytes.length - 12, 8);
      bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
      try {
        decodeBatches(bytes, 0, { left: 1024 * 1024 });
      } catch (err) {
        assert.ok(err instanceof KafkaError, `not a KafkaError: ${String(err)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('snappy (2), raw and xerial-framed, decodes to its records and is kept uncompressed; a block stating more than the budget is refused before decompressing', () => {
  for (const compress of [kafkaSnappyCompress, (b: Buffer) => xerialSnappyCompress(b, 16)]) {
    const [s] = decodeBatches(compressedBatch(RECORDS, 2, compress), 0);
    assert.equal(s!.codec, 'none', 'YAK stores no snappy: a producer-codec topic keeps it uncompressed, which every consumer reads');
    assert.deepEqual(s!.records, expected);
  }
  const big = kafkaSnappyCompress(Buffer.alloc(4 * 1024 * 1024));
  assert.throws(() => decodeBatches(compressedBatch(RECORDS, 2, () => big), 0, { left: 1024 * 1024 }), (e: unknown) => e instanceof KafkaError && e.kafka === 'MESSAGE_TOO_LARGE');
  for (const garbage of [Buffer.from('whatever'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.concat([xerialSnappyCompress(Buffer.from('x')).subarray(0, 16), Buffer.from([0, 0, 0, 9, 1])])]) {
    assert.throws(() => decodeBatches(compressedBatch(RECORDS, 2, () => garbage), 0), (e: unknown) => e instanceof KafkaError && e.kafka === 'CORRUPT_MESSAGE', garbage.toString('hex'));
  }
  // A block that states the right length but whose records do not add up is still CORRUPT_MESSAGE.
  assert.throws(() => decodeBatches(compressedBatch(RECORDS, 2, (b) => kafkaSnappyCompress(b.subarray(1))), 0), (e: unknown) => e instanceof KafkaError && e.kafka === 'CORRUPT_MESSAGE');
});
