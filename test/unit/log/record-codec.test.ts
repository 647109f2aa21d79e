import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidBatchError,
  RECORD_OVERHEAD_BYTES,
  decodeRecords,
  encodeRecords,
  scanRecords,
  validateBatch,
} from '../../../broker-runtime/src/log/record-codec.js';
import type { RecordInput } from '../../../broker-runtime/src/log/types.js';
import { recs } from './helpers.js';

const sample: RecordInput[] = [
  { key: null, payload: '{"a":1}', headers: {}, timestamp: 1 },
  { key: 'ключ-🔑', payload: '"héllo wörld ✓ 🚀"', headers: { 'x-trace': 'ü-1', empty: '' }, timestamp: 1_700_000_000_123.5 },
  { key: '', payload: '[]', headers: {}, timestamp: 0 },
  { key: 'k', payload: '', headers: { a: 'b' }, timestamp: -5 },
];

describe('record codec', () => {
  it('round-trips records with null, empty and unicode keys, headers and payloads', () => {
    const buf = encodeRecords(sample, 41, 7);
    const out = decodeRecords(buf);
    assert.deepEqual(
      out,
      sample.map((r, i) => ({ ...r, offset: 41 + i, epoch: 7 })),
    );
  });

  it('lays out a null-key, header-less record in exactly the fixed overhead plus its payload', () => {
    const buf = encodeRecords([{ key: null, payload: 'xyz', headers: {}, timestamp: 1 }], 0, 0);
    assert.equal(buf.length, RECORD_OVERHEAD_BYTES + 3);
    assert.equal(buf.readUInt32BE(0), buf.length - 4);
    assert.equal(buf.readInt32BE(28), -1);
  });

  it('writes offsets above 2^32 and reads them back', () => {
    const big = 2 ** 40 + 17;
    const [r] = decodeRecords(encodeRecords([sample[0]!], big, 1));
    assert.equal(r?.offset, big);
  });

  it('round-trips a large batch', () => {
    const input = recs(0, 1000);
    const out = decodeRecords(encodeRecords(input, 5000, 3));
    assert.equal(out.length, 1000);
    assert.deepEqual(out[999], { ...input[999], offset: 5999, epoch: 3 });
  });

  it('detects every single flipped bit in a record through its CRC or its length', () => {
    const buf = encodeRecords([sample[1]!], 0, 1);
    for (let byte = 0; byte < buf.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(buf);
        bad[byte]! ^= 1 << bit;
        const scan = scanRecords(bad);
        assert.equal(scan.count, 0, `flip of byte ${byte} bit ${bit} went unnoticed`);
        assert.notEqual(scan.stop, 'end');
        if (byte >= 4) assert.equal(scan.stop, 'crc');
      }
    }
  });

  it('scans to the last valid record boundary and says why it stopped', () => {
    const buf = encodeRecords(sample, 10, 1);
    const full = scanRecords(buf, { expectedOffset: 10 });
    assert.deepEqual([full.validBytes, full.count, full.nextOffset, full.stop], [buf.length, 4, 14, 'end']);

    const lastStart = boundaries(buf)[3]!;
    assert.equal(scanRecords(buf.subarray(0, lastStart + 2)).stop, 'torn-length');
    const pastEnd = scanRecords(buf.subarray(0, buf.length - 1));
    assert.deepEqual([pastEnd.stop, pastEnd.validBytes, pastEnd.count, pastEnd.needBytes], ['past-end', lastStart, 3, buf.length - lastStart]);
    assert.equal(scanRecords(Buffer.concat([buf, Buffer.alloc(8)])).stop, 'bad-length');
    assert.equal(scanRecords(Buffer.concat([buf, Buffer.alloc(8, 0xff)])).stop, 'bad-length');
    const wrongStart = scanRecords(buf, { expectedOffset: 11 });
    assert.deepEqual([wrongStart.stop, wrongStart.validBytes], ['offset', 0]);
  });

  it('validates a leader batch: contiguous offsets, good CRCs, epochs seen', () => {
    const batch = Buffer.concat([encodeRecords(recs(0, 3), 20, 2), encodeRecords(recs(3, 2), 23, 2), encodeRecords(recs(5, 2), 25, 4)]);
    assert.deepEqual(validateBatch(batch, 20), {
      count: 7,
      nextOffset: 27,
      epochs: [
        { epoch: 2, startOffset: 20 },
        { epoch: 4, startOffset: 25 },
      ],
    });
    assert.deepEqual(validateBatch(Buffer.alloc(0), 9), { count: 0, nextOffset: 9, epochs: [] });
  });

  it('rejects batches that do not continue the log, are torn, corrupt or go back in epoch', () => {
    const batch = encodeRecords(recs(0, 3), 20, 2);
    assert.throws(() => validateBatch(batch, 19), (e: unknown) => e instanceof InvalidBatchError && /expected offset 19, found 20/.test(e.message));
    const gap = Buffer.concat([encodeRecords(recs(0, 1), 20, 2), encodeRecords(recs(0, 1), 22, 2)]);
    assert.throws(() => validateBatch(gap, 20), /out of sequence/);
    assert.throws(() => validateBatch(batch.subarray(0, batch.length - 3), 20), /ends inside a record/);
    const flipped = Buffer.from(batch);
    flipped[flipped.length - 1]! ^= 0x10;
    assert.throws(() => validateBatch(flipped, 20), /CRC/);
    const backwards = Buffer.concat([encodeRecords(recs(0, 1), 20, 5), encodeRecords(recs(0, 1), 21, 4)]);
    assert.throws(() => validateBatch(backwards, 20), /epochs go backwards/);
  });
});

/** Start positions of the records in buf. */
function boundaries(buf: Buffer): number[] {
  const out: number[] = [];
  scanRecords(buf, { onRecord: (pos) => out.push(pos) });
  return out;
}

it('encodeRecords copies payloadBytes when given: the same bytes as encoding the payload string', () => {
  const records: RecordInput[] = [
    { key: null, payload: '{"a":1}', headers: {}, timestamp: 1 },
    { key: 'k', payload: '"é日本"', headers: { h: 'v' }, timestamp: 2 },
    { key: '', payload: '[]', headers: {}, timestamp: 3 },
  ];
  const withBytes = records.map((r) => ({ ...r, payloadBytes: Buffer.from(r.payload, 'utf8') }));
  assert.deepEqual(encodeRecords(withBytes, 40, 3), encodeRecords(records, 40, 3));
  assert.deepEqual(decodeRecords(encodeRecords(withBytes, 40, 3)).map((r) => r.payload), records.map((r) => r.payload));
});
