import assert from 'node:assert/strict';
import { readFile, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { segmentFileName } from '../../../broker-runtime/src/log/log-segment.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import { scanRecords } from '../../../broker-runtime/src/log/record-codec.js';
import type { LogOptions, StoredRecord } from '../../../broker-runtime/src/log/types.js';
import { collectLines, logOptions, rec, recs, tempDir } from './helpers.js';

const RECORDS = 6;
const firstLog = segmentFileName(0, '.log');

function payloads(records: StoredRecord[]): string[] {
  return records.map((r) => r.payload);
}

/**
 * Invariant: whatever is cut off the end of the last segment (a torn write, garbage, a flipped bit),
 * the log reopens at the last whole, valid record, reports exactly the bytes it cut, and the next
 * append continues at the next offset.
 */
describe('recovery of the last segment', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let pristine: Buffer;
  let pristineEpochs: Buffer;
  let starts: number[];

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    await log.append(recs(0, 4), 1);
    await log.append(recs(4, 2), 2);
    await log.close();
    pristine = await readFile(join(dir, firstLog));
    pristineEpochs = await readFile(join(dir, 'leader-epoch-checkpoint'));
    starts = [];
    scanRecords(pristine, { onRecord: (pos) => starts.push(pos) });
    assert.equal(starts.length, RECORDS);
  });
  after(() => cleanup());

  /** Put `bytes` in place of the segment, reopen, check the report, the records and a further append. */
  async function reopenWith(bytes: Buffer, expectRecords: number, expectCut: number, options: Partial<LogOptions> = {}): Promise<void> {
    await writeFile(join(dir, firstLog), bytes);
    await writeFile(join(dir, 'leader-epoch-checkpoint'), pristineEpochs);
    const { lines, logger } = collectLines();
    const log = await openPartitionLog(dir, 't', 0, logOptions({ logger, ...options }));
    const what = `file of ${bytes.length} bytes`;
    assert.equal(log.recovery.truncatedBytes, expectCut, what);
    assert.equal(log.logEndOffset(), expectRecords, what);
    if (expectCut > 0) assert.ok(lines.some((l) => l.includes(`cut ${expectCut} byte(s)`)), `${what}: ${lines.join(' | ')}`);
    assert.equal((await stat(join(dir, firstLog))).size, bytes.length - expectCut);
    const read = await log.read(0, Number.MAX_SAFE_INTEGER, 100, 1 << 20);
    assert.deepEqual(payloads(read), payloads(recs(0, expectRecords).map((r, i) => ({ ...r, offset: i, epoch: 0 }))), what);
    assert.equal(log.lastEpoch(), expectRecords > 4 ? 2 : expectRecords > 0 ? 1 : -1, what);
    const appended = await log.append([rec(100)], 2);
    assert.equal(appended.baseOffset, expectRecords, what);
    assert.equal((await log.read(expectRecords, expectRecords + 1, 1, 1))[0]?.payload, rec(100).payload);
    await log.close();
  }

  it('cuts a write torn at every byte inside the last two records', async () => {
    const lastTwo = starts[RECORDS - 2]!;
    for (let cut = lastTwo; cut < pristine.length; cut++) {
      const whole = starts.filter((s) => s <= cut).length - 1; // records ending at or before the cut
      const boundary = starts[whole]!;
      await reopenWith(pristine.subarray(0, cut), whole, cut - boundary);
    }
  });

  it('cuts garbage appended after the last record (zeros, 0xff, a bogus length)', async () => {
    const bogusLength = Buffer.alloc(12);
    bogusLength.writeUInt32BE(64, 0); // plausible length running past the end
    for (const garbage of [Buffer.alloc(100), Buffer.alloc(7, 0xff), bogusLength, Buffer.from('hello world, not a record')]) {
      await reopenWith(Buffer.concat([pristine, garbage]), RECORDS, garbage.length);
    }
  });

  it('cuts the last record when any one of its bytes has a flipped bit', async () => {
    const last = starts[RECORDS - 1]!;
    for (let byte = last; byte < pristine.length; byte++) {
      const bad = Buffer.from(pristine);
      bad[byte]! ^= 0x04;
      await reopenWith(bad, RECORDS - 1, pristine.length - last);
    }
  });

  it('keeps every record after a corrupt one out (a flip in the middle cuts the rest)', async () => {
    const bad = Buffer.from(pristine);
    bad[starts[2]! + 20]! ^= 0x80;
    await reopenWith(bad, 2, pristine.length - starts[2]!);
  });

  it('recovers an empty and a wholly torn segment to an empty log', async () => {
    await reopenWith(Buffer.alloc(0), 0, 0);
    await reopenWith(pristine.subarray(0, 3), 0, 3);
  });
});

describe('offset index', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const options = logOptions({ segmentBytes: 2000, indexIntervalBytes: 150 });

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const log = await openPartitionLog(dir, 't', 0, options);
    for (let i = 0; i < 120; i += 4) await log.append(recs(i, 4), 1);
    await log.close();
  });
  after(() => cleanup());

  async function segmentBases(): Promise<number[]> {
    return (await readdir(dir)).filter((n) => n.endsWith('.log')).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
  }

  async function checkAllReadable(): Promise<void> {
    const log = await openPartitionLog(dir, 't', 0, options);
    try {
      for (const from of [0, 1, 37, 63, 64, 99, 119]) {
        const got = await log.read(from, 120, 3, 1 << 20);
        assert.deepEqual(got.map((r) => r.offset), [from, from + 1, from + 2].filter((o) => o < 120));
        assert.equal(got[0]?.payload, rec(from).payload);
      }
    } finally {
      await log.close();
    }
  }

  it('writes an index with entries for closed segments and uses it for reads', async () => {
    const bases = await segmentBases();
    assert.ok(bases.length >= 3, `expected several segments, got ${bases.join(',')}`);
    const index = await readFile(join(dir, segmentFileName(bases[0]!, '.index')));
    assert.ok(index.length >= 16 && index.length % 8 === 0);
    await checkAllReadable();
  });

  it('rebuilds a deleted index, and the rebuilt file is identical', async () => {
    const base = (await segmentBases())[1]!;
    const path = join(dir, segmentFileName(base, '.index'));
    const original = await readFile(path);
    await unlink(path);
    const { lines, logger } = collectLines();
    const log = await openPartitionLog(dir, 't', 0, { ...options, logger });
    assert.equal(log.recovery.rebuiltIndexes, 1);
    assert.equal(log.recovery.truncatedBytes, 0);
    assert.ok(lines.some((l) => l.includes('index rebuilt (missing)')));
    await log.close();
    assert.deepEqual(await readFile(path), original);
    await checkAllReadable();
  });

  it('rebuilds an index that is torn, not increasing or pointing at the wrong record', async () => {
    const base = (await segmentBases())[0]!;
    const path = join(dir, segmentFileName(base, '.index'));
    const original = await readFile(path);
    const shifted = Buffer.from(original);
    shifted.writeUInt32BE(shifted.readUInt32BE(shifted.length - 4) + 1, shifted.length - 4);
    const decreasing = Buffer.concat([original, original.subarray(0, 8)]);
    for (const bad of [original.subarray(0, original.length - 3), decreasing, shifted, Buffer.alloc(16, 0xff)]) {
      await writeFile(path, bad);
      const log = await openPartitionLog(dir, 't', 0, options);
      assert.equal(log.recovery.rebuiltIndexes, 1, `index ${bad.toString('hex')}`);
      await log.close();
      assert.deepEqual(await readFile(path), original);
    }
    await checkAllReadable();
  });

  it('rebuilds an index whose middle entry points at the wrong bytes at the first read through it, and never serves a wrong answer', async () => {
    // Only the last entry is checked at open: a middle one moved into another record (or onto the
    // start of a different one) made every read of its offsets fail, or answer no records at all.
    const base = (await segmentBases())[0]!;
    const path = join(dir, segmentFileName(base, '.index'));
    const original = await readFile(path);
    assert.ok(original.length >= 24, 'the first segment needs a middle entry');
    const entryOffset = base + original.readUInt32BE(8);
    const entryPosition = original.readUInt32BE(12);
    const previous = original.readUInt32BE(4);
    const next = original.readUInt32BE(20);
    for (const delta of [-9, -1, 1, 5, 17, 25]) {
      const position = entryPosition + delta;
      assert.ok(position > previous && position < next, `delta ${delta} keeps the entries increasing`);
      const bad = Buffer.from(original);
      bad.writeUInt32BE(position, 12);
      await writeFile(path, bad);
      const { lines, logger } = collectLines();
      const log = await openPartitionLog(dir, 't', 0, { ...options, logger });
      try {
        assert.equal(log.recovery.rebuiltIndexes, 0, 'the entry looks plausible at open');
        const got = await log.read(entryOffset, 120, 3, 1 << 20);
        assert.deepEqual(got.map((r) => r.offset), [entryOffset, entryOffset + 1, entryOffset + 2], `delta ${delta}`);
        assert.deepEqual(payloads(got), [rec(entryOffset).payload, rec(entryOffset + 1).payload, rec(entryOffset + 2).payload]);
        assert.ok(lines.some((l) => l.includes('index rebuilt while reading')), `delta ${delta}: ${lines.join(' | ')}`);
      } finally {
        await log.close();
      }
      // The damaged file is gone: the next open rebuilds it from the records instead of trusting it again.
      const reopened = await openPartitionLog(dir, 't', 0, options);
      assert.equal(reopened.recovery.rebuiltIndexes, 1, `delta ${delta}`);
      await reopened.close();
      assert.deepEqual(await readFile(path), original);
    }
    await checkAllReadable();
  });

  it('rebuilds the active segment index when it disagrees, without counting a lagging one', async () => {
    const bases = await segmentBases();
    const path = join(dir, segmentFileName(bases[bases.length - 1]!, '.index'));
    const original = await readFile(path);
    assert.ok(original.length > 0);
    await truncate(path, 8); // a prefix: the file lags, which is normal for the active segment
    let log = await openPartitionLog(dir, 't', 0, options);
    assert.equal(log.recovery.rebuiltIndexes, 0);
    await log.close();
    await writeFile(path, Buffer.alloc(8, 0x01));
    log = await openPartitionLog(dir, 't', 0, options);
    assert.equal(log.recovery.rebuiltIndexes, 1);
    await log.close();
    assert.deepEqual(await readFile(path), original);
  });
});
