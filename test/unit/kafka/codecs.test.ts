import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c } from '../../../broker-runtime/src/kafka/protocol/crc32c.js';
import { KafkaDecodeError } from '../../../broker-runtime/src/kafka/protocol/decode-error.js';
import { KafkaError } from '../../../broker-runtime/src/kafka/protocol/error-codes.js';
import { Reader } from '../../../broker-runtime/src/kafka/protocol/reader.js';
import { decodeBatches, encodeBatch, type OutgoingRecord } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';

test('CRC-32C matches the RFC 3720 (iSCSI) check values', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
});

test('zigzag varints encode as Kafka writes them (0→00, -1→01, 1→02, 300→d804, -129→8102)', () => {
  const cases: [number, string][] = [[0, '00'], [-1, '01'], [1, '02'], [63, '7e'], [-64, '7f'], [64, '8001'], [300, 'd804'], [-129, '8102'], [2147483647, 'feffffff0f'], [-2147483648, 'ffffffff0f']];
  for (const [n, hex] of cases) {
    assert.equal(new Writer().varint(n).toBuffer().toString('hex'), hex, `varint ${n}`);
    assert.equal(new Reader(Buffer.from(hex, 'hex')).varint(), n);
  }
});

test('varints, varlongs, int64s and strings read back what was written', () => {
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 52), max: 2 ** 52 - 1 }), fc.string(), (i, l, v, s) => {
      const w = new Writer(4).varint(i).int64(l).int64(0 - l).varlong(v).string(s).nullableString(null).compactString(s);
      const r = new Reader(w.toBuffer());
      assert.equal(r.varint(), i);
      assert.equal(r.int64(), l);
      assert.equal(r.int64(), 0 - l);
      assert.equal(r.varlong(), v);
      assert.equal(r.string(), s);
      assert.equal(r.nullableString(), null);
      assert.equal(r.compactString(), s);
      assert.equal(r.remaining(), 0);
    }),
  );
});

test('a reader refuses to read past its frame, and a count larger than the bytes left', () => {
  assert.throws(() => new Reader(Buffer.from([0, 5, 0x61])).string(), KafkaDecodeError);
  assert.throws(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).array((r) => r.int8()), KafkaDecodeError);
  assert.throws(() => new Reader(Buffer.from('ffffffffffff', 'hex')).uvarint(), KafkaDecodeError);
  assert.throws(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).int64(), KafkaDecodeError);
});

const header = fc.record({ key: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)), value: fc.option(fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)), { nil: null }) });
const record = fc.record({
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
  key: fc.option(fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), { nil: null }),
  headers: fc.array(header, { maxLength: 4 }),
});

test('a RecordBatch v2 decodes back to the records it was encoded from', () => {
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), fc.nat(1000), (records, base) => {
      const out: OutgoingRecord[] = records.map((r, i) => ({ ...r, offset: base + i }));
      const bytes = encodeBatch(out, 3).toBuffer();
      const [batch] = decodeBatches(bytes, 1);
      assert.equal(batch!.baseOffset, base);
      assert.equal(batch!.producerId, -1);
      // fast-check builds null-prototype objects; compare plain copies.
      assert.deepEqual(batch!.records, records.map((r) => ({ ...r, headers: r.headers.map((h) => ({ ...h })) })));
    }),
  );
});

test('a flipped bit anywhere after the CRC field is CORRUPT_MESSAGE', () => {
  const bytes = encodeBatch([{ offset: 0, timestamp: 5, key: Buffer.from('k'), value: Buffer.from('v'), headers: [] }], 0).toBuffer();
  for (let i = 21; i < bytes.length; i++) {
    const copy = Buffer.from(bytes);
    copy[i]! ^= 0x10;
    assert.throws(() => decodeBatches(copy, 0), (e: unknown) => e instanceof KafkaError && e.kafka === 'CORRUPT_MESSAGE', `byte ${i}`);
  }
});

test('zstd-compressed, old-format and control batches are refused with their own codes; bytes that are not snappy in a snappy batch are CORRUPT_MESSAGE', () => {
  const bytes = encodeBatch([{ offset: 0, timestamp: 5, key: null, value: Buffer.from('v'), headers: [] }], 0).toBuffer();
  const withAttributes = (attributes: number) => {
    const copy = Buffer.from(bytes);
    copy.writeInt16BE(attributes, 21);
    copy.writeUInt32BE(crc32c(copy.subarray(21)), 17);
    return copy;
  };
  assert.throws(() => decodeBatches(withAttributes(4), 0), (e: unknown) => e instanceof KafkaError && e.code === 76);
  assert.throws(() => decodeBatches(withAttributes(2), 0), (e: unknown) => e instanceof KafkaError && e.kafka === 'CORRUPT_MESSAGE');
  assert.throws(() => decodeBatches(withAttributes(0x20), 0), (e: unknown) => e instanceof KafkaError && e.kafka === 'INVALID_RECORD');
  const v1 = Buffer.from(bytes);
  v1.writeInt8(1, 16);
  assert.throws(() => decodeBatches(v1, 0), (e: unknown) => e instanceof KafkaError && e.kafka === 'UNSUPPORTED_FOR_MESSAGE_FORMAT');
});

test('a LogAppendTime batch takes the broker clock; CreateTime keeps the producer timestamp', () => {
  const bytes = encodeBatch([{ offset: 0, timestamp: 5, key: null, value: null, headers: [] }], 0).toBuffer();
  assert.equal(decodeBatches(bytes, 99)[0]!.records[0]!.timestamp, 5);
  bytes.writeInt16BE(0x08, 21);
  bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
  assert.equal(decodeBatches(bytes, 99)[0]!.records[0]!.timestamp, 99);
});

test('fuzz: arbitrary bytes, or a valid batch cut or with a byte changed, decode or are refused with a KafkaError — never anything else', () => {
  const valid = encodeBatch([{ offset: 0, timestamp: 5, key: Buffer.from('key'), value: Buffer.from('{"a":1}'), headers: [{ key: Buffer.from('h'), value: Buffer.from('v') }] }], 0).toBuffer();
  const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length)).map(([at, byte, cut]) => {
    const copy = Buffer.from(valid);
    copy[at] = byte;
    return copy.subarray(0, cut);
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), mutated), (bytes) => {
      try {
        decodeBatches(bytes, 0);
      } catch (err) {
        assert.ok(err instanceof KafkaError, `unexpected ${(err as Error).stack}`);
      }
    }),
    { numRuns: 3000 },
  );
});
