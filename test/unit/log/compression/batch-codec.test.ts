import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { describe, it } from 'node:test';
import { codecByName } from '../../../../broker-runtime/src/log/compression/index.js';
import {
  InvalidBatchError,
  decodeRecords,
  decompressEntryAt,
  encodeCompressedBatch,
  encodeRecords,
  entryCountAt,
  expandEntries,
  scanRecords,
  validateBatch,
} from '../../../../broker-runtime/src/log/record-codec.js';
import { recs } from '../helpers.js';

const gzip = codecByName('gzip')!;
const lz4 = codecByName('lz4')!;

/** Plain 0..2, gzip batch 3..12, plain 13, lz4 batch 14..18 (epochs 1, 1, 2, 2). */
function mixed(): Buffer {
  return Buffer.concat([
    encodeRecords(recs(0, 3), 0, 1),
    encodeCompressedBatch(recs(3, 10), 3, 1, gzip),
    encodeRecords(recs(13, 1), 13, 2),
    encodeCompressedBatch(recs(14, 5), 14, 2, lz4),
  ]);
}

/** Set the CRC of the entry at `pos` to match its (changed) bytes. */
function fixCrc(buf: Buffer, pos = 0): void {
  const size = 4 + buf.readUInt32BE(pos);
  buf.writeUInt32BE(crc32(buf.subarray(pos + 8, pos + size)), pos + 4);
}

describe('compressed batches in the record format', () => {
  it('round-trip: a batch decompresses to the plain records with their offsets and epoch', () => {
    for (const codec of [gzip, lz4]) {
      const batch = encodeCompressedBatch(recs(0, 50), 100, 4, codec);
      assert.equal(batch.readInt32BE(28), -2, 'marked by keyLength -2');
      assert.equal(entryCountAt(batch, 0, batch.length), 50);
      assert.equal(batch.readDoubleBE(20), recs(0, 50)[49]!.timestamp, 'header timestamp is the newest');
      const plain = decompressEntryAt(batch, 0, batch.length);
      assert.deepEqual(decodeRecords(plain), recs(0, 50).map((r, i) => ({ ...r, offset: 100 + i, epoch: 4 })));
      assert.ok(batch.length < plain.length, `${codec.name} made it smaller`);
    }
  });

  it('scans and validates a mix of plain records and batches, offsets advancing by each count', () => {
    const buf = mixed();
    const seen: [number, number, number][] = [];
    const scan = scanRecords(buf, { expectedOffset: 0, onRecord: (_p, _s, offset, epoch, count) => seen.push([offset, epoch, count]) });
    assert.equal(scan.stop, 'end');
    assert.equal(scan.count, 19);
    assert.equal(scan.nextOffset, 19);
    assert.deepEqual(seen, [[0, 1, 1], [1, 1, 1], [2, 1, 1], [3, 1, 10], [13, 2, 1], [14, 2, 5]]);
    const v = validateBatch(buf, 0);
    assert.equal(v.count, 19);
    assert.equal(v.nextOffset, 19);
    assert.deepEqual(v.epochs, [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 13 }]);
    assert.throws(() => validateBatch(buf, 1), /offset out of sequence/);
  });

  it('a torn compressed tail stops the scan at the batch start (past-end), at every cut', () => {
    const buf = mixed();
    const lastStart = buf.length - encodeCompressedBatch(recs(14, 5), 14, 2, lz4).length;
    for (let cut = lastStart + 1; cut < buf.length; cut++) {
      const scan = scanRecords(buf.subarray(0, cut), { expectedOffset: 0 });
      assert.equal(scan.validBytes, lastStart);
      assert.equal(scan.nextOffset, 14);
      assert.ok(scan.stop === 'past-end' || scan.stop === 'torn-length');
    }
  });

  it('a flipped byte inside the compressed body fails the CRC, without decompressing', () => {
    const batch = encodeCompressedBatch(recs(0, 20), 0, 1, gzip);
    for (let at = 41; at < batch.length; at += 7) {
      const bad = Buffer.from(batch);
      bad[at]! ^= 0x10;
      assert.equal(scanRecords(bad, { expectedOffset: 0 }).stop, 'crc');
      assert.throws(() => validateBatch(bad, 0), /CRC does not match/);
    }
  });

  it('refuses a batch whose CRC holds but whose body is not what it says (a broken or hostile leader)', () => {
    const good = encodeCompressedBatch(recs(0, 10), 0, 1, lz4);
    // Count says 11, 10 inside.
    const count = Buffer.from(good);
    count.writeUInt32BE(11, 33);
    fixCrc(count);
    assert.throws(() => validateBatch(count, 0), (e: unknown) => e instanceof InvalidBatchError && /holds 10 record\(s\), its header says 11/.test((e as Error).message));
    // Declared plain size larger than the data: refused by the codec's preamble check.
    const size = Buffer.from(good);
    size.writeUInt32BE(size.readUInt32BE(37) + 100, 37);
    fixCrc(size);
    assert.throws(() => validateBatch(size, 0), /lz4: the block says/);
    // Declared plain size over the cap: an impossible header, nothing decompressed.
    const huge = Buffer.from(good);
    huge.writeUInt32BE(0xffffffff, 37);
    fixCrc(huge);
    assert.equal(scanRecords(huge, { expectedOffset: 0 }).stop, 'bad-batch');
    assert.throws(() => validateBatch(huge, 0), /impossible header/);
    // Garbage body with a good CRC.
    const garbage = Buffer.from(good);
    garbage.fill(0x5a, 41);
    fixCrc(garbage);
    assert.throws(() => validateBatch(garbage, 0), InvalidBatchError);
    // Unknown codec id.
    const codec = Buffer.from(good);
    codec.writeUInt8(9, 32);
    fixCrc(codec);
    assert.throws(() => validateBatch(codec, 0), /unknown or unsupported codec id 9/);
    // Records inside with another epoch than the batch.
    const inner = encodeCompressedBatch(recs(0, 3), 0, 5, gzip);
    inner.writeUInt32BE(6, 16);
    fixCrc(inner);
    assert.throws(() => validateBatch(inner, 0), /not a plain record of the batch's epoch 6/);
    // A gzip bomb: plain size declared small, body inflating to much more.
    const bomb = encodeCompressedBatch(recs(0, 1), 0, 1, gzip);
    const body = gzip.compress(Buffer.alloc(20 * 1024 * 1024));
    const hostile = Buffer.concat([bomb.subarray(0, 41), body]);
    hostile.writeUInt32BE(hostile.length - 4, 0);
    fixCrc(hostile);
    assert.throws(() => validateBatch(hostile, 0), /gzip/);
  });

  it('expands entries to plain records in [from, upTo), at most maxRecords', () => {
    const buf = mixed();
    const offsets = (from: number, upTo: number, max: number) =>
      expandEntries(buf, from, upTo, max).buffers.flatMap((b) => decodeRecords(b).map((r) => r.offset));
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
    assert.deepEqual(offsets(0, 19, 100), range(0, 19));
    for (let from = 0; from < 19; from++) assert.deepEqual(offsets(from, 19, 100), range(from, 19), `from ${from}`);
    assert.deepEqual(offsets(5, 8, 100), range(5, 8), 'a range inside one batch (high-water mark inside it)');
    assert.deepEqual(offsets(4, 19, 4), range(4, 8), 'max records inside a batch');
    assert.deepEqual(offsets(1, 16, 100), range(1, 16));
    const r = expandEntries(buf, 0, 19, 100);
    assert.equal(r.count, 19);
    assert.deepEqual(decodeRecords(Buffer.concat(r.buffers)).map((x) => x.payload), recs(0, 19).map((x) => x.payload));
  });
});
