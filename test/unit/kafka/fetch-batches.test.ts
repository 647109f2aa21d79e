import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CACHE_BLOCK, kafkaBatchesOf } from '../../../broker-runtime/src/kafka/apis/fetch-batches.js';
import { EncodedBatchCache } from '../../../broker-runtime/src/kafka/apis/fetch-cache.js';
import { crc32c } from '../../../broker-runtime/src/kafka/protocol/crc32c.js';
import { decodeBatches, encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { toOutgoingRecord, toProduceRecord } from '../../../broker-runtime/src/kafka/record-mapping.js';
import { codecByName } from '../../../broker-runtime/src/log/compression/index.js';
import { decodeRecords, encodeCompressedBatch, encodeRecords } from '../../../broker-runtime/src/log/record-codec.js';
import type { RecordInput } from '../../../broker-runtime/src/log/types.js';

/**
 * The Fetch encoder (apis/fetch-batches.ts) writes Kafka batches straight from stored bytes: what a
 * Kafka consumer decodes must be exactly what the object path (decode, toOutgoingRecord) gives, for
 * any stored record; compressed stored batches go out as compressed Kafka batches; cached blocks are
 * the same bytes as freshly encoded ones and never carry more than was read.
 */

const T0 = 1_700_000_000_000;

/** What a Kafka consumer sees of the batches: one entry per record, offsets included. */
function consumed(bytes: Buffer | null) {
  if (bytes === null) return [];
  return decodeBatches(bytes, 0).flatMap((b) =>
    b.records.map((r, i) => ({ offset: b.baseOffset + i, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers })),
  );
}

/** The same through the object path: stored records decoded and mapped one by one. */
function viaObjects(stored: Buffer, from = 0, upTo = Number.MAX_SAFE_INTEGER) {
  return decodeRecords(stored)
    .filter((r) => r.offset >= from && r.offset < upTo)
    .map(toOutgoingRecord)
    .map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers }));
}

const bytesArb = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
const textArb = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('yak.value', 'yak.key', 'yak.headers', 'a"b', 'back\\slash', 'ünï', '0', '__proto__'));
/** Kafka records as producers send them, stored through the real mapping (toProduceRecord). */
const kafkaRecordArb = fc.record({
  key: fc.option(fc.oneof(bytesArb, textArb.map((s) => Buffer.from(s))), { nil: null }),
  value: fc.option(fc.oneof(bytesArb, textArb.map((s) => Buffer.from(s)), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null'))), { nil: null }),
  headers: fc.array(fc.record({ key: textArb.map((s) => Buffer.from(s)), value: fc.option(fc.oneof(bytesArb, textArb.map((s) => Buffer.from(s))), { nil: null }) }), { maxLength: 3 }),
  timestamp: fc.integer({ min: 0, max: 10_000 }).map((d) => T0 + d),
});
/** REST records as stored: any key, headers and JSON payload, markers forged or not. */
const restRecordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(textArb, { nil: null }),
  // JSON strings (escaped or not, base64 or not) as much as other JSON: what a forged marker meets.
  payload: fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.string().map((v) => JSON.stringify(v)), fc.constantFrom('"aGVsbG8="', '"a\\"b"', '"\\u00e9"')),
  // Forged markers too: a REST record may carry yak.* headers with any value.
  headers: fc.dictionary(textArb, fc.oneof(textArb, fc.constantFrom('text', 'base64', 'null', '[["a",null]]')), { maxKeys: 3 }),
  timestamp: fc.integer({ min: 0, max: 10_000 }).map((d) => T0 + d),
});

function storedOf(records: RecordInput[], epochs: number[]): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  // Runs of records under successive epochs, as a log holds them after leader changes.
  const per = Math.ceil(records.length / epochs.length);
  for (let e = 0; e < epochs.length; e++) {
    const run = records.slice(e * per, (e + 1) * per);
    if (run.length === 0) continue;
    chunks.push(encodeRecords(run, offset, epochs[e]!));
    offset += run.length;
  }
  return Buffer.concat(chunks);
}

test('any stored record reaches a Kafka consumer as the object path maps it (keys, values, headers, markers, epochs)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(kafkaRecordArb.map((r) => toProduceRecord(r, 0)).map((p): RecordInput => ({ key: p.key, payload: p.payload, headers: p.headers, timestamp: p.timestamp! })), restRecordArb), { minLength: 1, maxLength: 30 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 3 }).map((a) => a.sort((x, y) => x - y)),
      fc.nat(40),
      (records, epochs, from) => {
        const stored = storedOf(records, epochs);
        const upTo = records.length;
        assert.deepEqual(consumed(kafkaBatchesOf(stored, upTo, from, upTo, 10_000)), viaObjects(stored, from, upTo));
      },
    ),
    { numRuns: 1000 },
  );
});

test('one batch per run of one leader epoch, stamped with it; byte for byte what encodeBatch writes', () => {
  const records = Array.from({ length: 10 }, (_, i): RecordInput => ({ key: i % 2 ? `k${i}` : null, payload: `{"i":${i}}`, headers: i % 3 ? {} : { h: `v${i}` }, timestamp: T0 + i }));
  const stored = Buffer.concat([encodeRecords(records.slice(0, 4), 0, 3), encodeRecords(records.slice(4), 4, 7)]);
  const out = kafkaBatchesOf(stored, 10, 0, 10, 10_000)!;
  const objects = decodeRecords(stored).map(toOutgoingRecord);
  assert.deepEqual(out, Buffer.concat([encodeBatch(objects.slice(0, 4), 3).toBuffer(), encodeBatch(objects.slice(4), 7).toBuffer()]));
  assert.equal(out.readInt32BE(12), 3);
  // Stops at upTo (the high-water mark) and at maxRecords.
  assert.deepEqual(consumed(kafkaBatchesOf(stored, 10, 2, 6, 10_000)).map((r) => r.offset), [2, 3, 4, 5]);
  assert.deepEqual(consumed(kafkaBatchesOf(stored, 10, 0, 10, 3)).map((r) => r.offset), [0, 1, 2]);
  assert.equal(kafkaBatchesOf(stored, 10, 10, 10, 10_000), null);
});

for (const codec of ['gzip', 'lz4'] as const) {
  test(`a stored ${codec} batch goes out as one ${codec} Kafka batch (attributes ${codec === 'gzip' ? 1 : 3}); past the high-water mark as plain records`, () => {
    const records = Array.from({ length: 50 }, (_, i): RecordInput => ({ key: `key-${i}`, payload: i % 2 ? `{"n":${i}}` : JSON.stringify(`text ${i}`), headers: i % 2 ? { h: 'x' } : { 'yak.value': 'text' }, timestamp: T0 + i }));
    const plainBefore = encodeRecords([{ key: null, payload: '1', headers: {}, timestamp: T0 }], 0, 2);
    const batch = encodeCompressedBatch(records, 1, 2, codecByName(codec)!);
    const stored = Buffer.concat([plainBefore, batch]);
    const out = kafkaBatchesOf(stored, 51, 0, 51, 10_000)!;
    // Two batches: the plain record, then the compressed batch with the codec in its attributes.
    const second = out.subarray(12 + out.readInt32BE(8));
    assert.equal(second.readInt16BE(21) & 0x07, codecByName(codec)!.id);
    assert.equal(second.readInt32BE(12), 2, 'partitionLeaderEpoch');
    assert.equal(crc32c(second.subarray(21)), second.readUInt32BE(17));
    assert.ok(second.length < batch.length * 2, `compressed: ${second.length} bytes`);
    const [decoded] = decodeBatches(second, 0);
    assert.equal(decoded!.codec, codec);
    assert.deepEqual(consumed(out), viaObjects(Buffer.concat([plainBefore, encodeRecords(records, 1, 2)])));

    // A read from inside the batch gets the whole batch (consumers skip what lies below their offset, as with Kafka).
    const inside = consumed(kafkaBatchesOf(batch, 51, 20, 51, 10_000));
    assert.equal(inside[0]!.offset, 1);
    assert.equal(inside.length, 50);

    // The high-water mark inside the batch: the committed records only, uncompressed.
    const cut = kafkaBatchesOf(batch, 51, 10, 30, 10_000)!;
    assert.equal(cut.readInt16BE(21) & 0x07, 0);
    assert.deepEqual(consumed(cut).map((r) => r.offset), Array.from({ length: 20 }, (_, i) => 10 + i));
    // ... and within the answer's byte limit (a small stored batch may unpack to far more), at least one record.
    assert.ok(consumed(kafkaBatchesOf(batch, 51, 1, 30, 10_000, undefined, 200)).length < 10);
    assert.equal(consumed(kafkaBatchesOf(batch, 51, 1, 30, 10_000, undefined, 1)).length, 1);
  });
}

test('cached blocks: the same bytes as encoding afresh, from any starting offset; never more than the entries read; never another log', () => {
  const n = 3 * CACHE_BLOCK + 17;
  const records = Array.from({ length: n }, (_, i): RecordInput => ({ key: i % 5 ? null : `k${i}`, payload: `{"i":${i},"pad":"${'x'.repeat(i % 40)}"}`, headers: i % 7 ? {} : { t: String(i) }, timestamp: T0 + i }));
  const stored = encodeRecords(records, 0, 1);
  const cache = new EncodedBatchCache(32 << 20);
  const fresh = kafkaBatchesOf(stored, n, 0, n, 100_000)!;
  const first = Buffer.from(kafkaBatchesOf(stored, n, 0, n, 100_000, { cache, log: 1 })!);
  assert.deepEqual(first, fresh);
  assert.equal(cache.size, 3, 'three whole blocks, the tail not');
  const again = kafkaBatchesOf(stored, n, 0, n, 100_000, { cache, log: 1 })!;
  assert.deepEqual(again, fresh);
  for (const from of [1, CACHE_BLOCK - 1, CACHE_BLOCK, CACHE_BLOCK + 3, 3 * CACHE_BLOCK]) {
    assert.deepEqual(consumed(kafkaBatchesOf(stored, n, from, n, 100_000, { cache, log: 1 })), viaObjects(stored, from, n), `from ${from}`);
  }
  // Below a block's end (the high-water mark, or the entries a byte limit let through): encoded, not taken whole.
  assert.deepEqual(consumed(kafkaBatchesOf(stored, n, 0, 100, 100_000, { cache, log: 1 })).length, 100);
  const partial = encodeRecords(records.slice(0, 100), 0, 1);
  assert.deepEqual(consumed(kafkaBatchesOf(partial, 100, 0, n, 100_000, { cache, log: 1 })).length, 100);
  // Another log with other records at the same offsets does not hit.
  const other = encodeRecords(records.map((r) => ({ ...r, payload: '"other"' })), 0, 1);
  assert.deepEqual(consumed(kafkaBatchesOf(other, n, 0, n, 100_000, { cache, log: 2 })), viaObjects(other));
  // A suffix of the block rewritten (an unclean election), its first record kept: no hit.
  const suffix = Buffer.concat([encodeRecords(records.slice(0, 10), 0, 1), encodeRecords(records.slice(10).map((r) => ({ ...r, payload: '"new"' })), 10, 2)]);
  assert.deepEqual(consumed(kafkaBatchesOf(suffix, n, 0, n, 100_000, { cache, log: 1 })), viaObjects(suffix));
  // The same log object with records rewritten at the same offsets (another epoch or CRC): no hit either.
  const rewritten = encodeRecords(records.map((r) => ({ ...r, payload: '"rewritten"' })), 0, 1);
  assert.deepEqual(consumed(kafkaBatchesOf(rewritten, n, 0, n, 100_000, { cache, log: 1 })), viaObjects(rewritten));
  // Only a block's last record differs, same epoch: its first record's key hits, the check does not.
  const fresh2 = new EncodedBatchCache(32 << 20);
  const lastChanged = encodeRecords(records.map((r, i) => (i === CACHE_BLOCK - 1 ? { ...r, payload: '"last"' } : r)), 0, 1);
  kafkaBatchesOf(stored, n, 0, n, 100_000, { cache: fresh2, log: 1 });
  assert.deepEqual(kafkaBatchesOf(lastChanged, n, 0, n, 100_000, { cache: fresh2, log: 1 }), kafkaBatchesOf(lastChanged, n, 0, n, 100_000));
  assert.deepEqual(kafkaBatchesOf(stored, n, 0, n, 100_000, { cache: fresh2, log: 1 }), fresh, 'and the original again, after the other replaced it');
  assert.equal(fresh2.size, 3);
});

test('an answer cut by its byte limit ends at a block boundary when something precedes it, so the next Fetch starts on one', () => {
  const n = 2 * CACHE_BLOCK;
  const records = Array.from({ length: n }, (_, i): RecordInput => ({ key: null, payload: `{"i":${i}}`, headers: {}, timestamp: T0 + i }));
  const read = (from: number, to: number) => encodeRecords(records.slice(from, to), from, 1);
  const offsets = (b: Buffer | null) => consumed(b).map((r) => r.offset);
  // Entries up to 700 of 1,024 committed: the block from 512 is not whole, so it waits for the next Fetch.
  assert.deepEqual(offsets(kafkaBatchesOf(read(0, 700), 700, 0, n, 100_000)), Array.from({ length: CACHE_BLOCK }, (_, i) => i));
  assert.deepEqual(offsets(kafkaBatchesOf(read(300, 700), 700, 300, n, 100_000)), Array.from({ length: CACHE_BLOCK - 300 }, (_, i) => 300 + i));
  // Nothing before it: the partial block is the answer (progress), and at the high-water mark nothing is held back.
  assert.deepEqual(offsets(kafkaBatchesOf(read(600, 700), 700, 600, n, 100_000)).length, 100);
  assert.deepEqual(offsets(kafkaBatchesOf(read(0, 700), 700, 0, 700, 100_000)).length, 700);
});

test('the cache holds at most its bytes, least recently used out first', () => {
  const cache = new EncodedBatchCache(8000);
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, Buffer.alloc(900, i));
  assert.ok(cache.bytes <= 8000);
  assert.equal(cache.get('k0'), undefined);
  assert.deepEqual(cache.get('k9'), { bytes: Buffer.alloc(900, 9), check: 0 });
  cache.set('k9', Buffer.alloc(900, 1), 5);
  assert.deepEqual(cache.get('k9'), { bytes: Buffer.alloc(900, 1), check: 5 }, 'another check replaces the entry');
  assert.ok(cache.bytes <= 8000);
  cache.set('big', Buffer.alloc(1001));
  assert.equal(cache.get('big'), undefined, 'one entry holds at most an eighth');
});

test('CRC-32C sliced by 8 agrees with the byte-at-a-time definition at every length and alignment', () => {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    return c;
  });
  const slow = (b: Uint8Array) => {
    let crc = -1;
    for (const x of b) crc = table[(crc ^ x) & 0xff]! ^ (crc >>> 8);
    return (crc ^ -1) >>> 0;
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(7), (bytes, skip) => {
      const view = bytes.subarray(Math.min(skip, bytes.length));
      assert.equal(crc32c(view), slow(view));
    }),
    { numRuns: 500 },
  );
});
