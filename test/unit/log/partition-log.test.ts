import assert from 'node:assert/strict';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HIGH_WATERMARK_FILE, highWatermarkText } from '../../../broker-runtime/src/log/high-watermark.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import { encodeRecords } from '../../../broker-runtime/src/log/record-codec.js';
import type { LogOptions } from '../../../broker-runtime/src/log/types.js';
import { logOptions, rec, recs, tempDir } from './helpers.js';

const ALL = Number.MAX_SAFE_INTEGER;

describe('partition log', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  const small: Partial<LogOptions> = { segmentBytes: 1000, indexIntervalBytes: 200 };

  async function segmentFiles(): Promise<string[]> {
    return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  }

  it('assigns offsets from 0, reads them back and respects upTo, maxRecords and maxBytes', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    assert.equal(log.logEndOffset(), 0);
    assert.equal(log.lastEpoch(), -1);
    assert.deepEqual(await log.append(recs(0, 3), 1), { baseOffset: 0, lastOffset: 2 });
    assert.deepEqual(await log.append(recs(3, 7), 1), { baseOffset: 3, lastOffset: 9 });
    assert.equal(log.logEndOffset(), 10);
    const all = await log.read(0, ALL, 100, 1 << 20);
    assert.deepEqual(all, recs(0, 10).map((r, i) => ({ ...r, offset: i, epoch: 1 })));
    assert.deepEqual((await log.read(4, 7, 100, 1 << 20)).map((r) => r.offset), [4, 5, 6]);
    assert.deepEqual((await log.read(4, ALL, 2, 1 << 20)).map((r) => r.offset), [4, 5]);
    const twoSizes = encodeRecords([rec(2), rec(3)], 2, 1).length;
    assert.deepEqual((await log.read(2, ALL, 100, twoSizes)).map((r) => r.offset), [2, 3]);
    assert.deepEqual((await log.read(2, ALL, 100, twoSizes - 1)).map((r) => r.offset), [2]);
    assert.deepEqual((await log.read(2, ALL, 100, 1)).map((r) => r.offset), [2], 'at least one record even over maxBytes');
    assert.deepEqual(await log.read(10, ALL, 100, 1 << 20), []);
    assert.deepEqual(await log.read(50, ALL, 100, 1 << 20), []);
    await log.close();
  });

  it('rolls segments at segmentBytes and reads across them, forwards from every offset', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 3) await log.append(recs(i, 3), 1);
    const files = await segmentFiles();
    assert.ok(files.length >= 4, files.join(','));
    assert.equal(files[0], '00000000000000000000.log');
    for (const f of files) assert.ok((await stat(join(dir, f))).size <= 1000 || f === files[files.length - 1]);
    for (let from = 0; from < 60; from++) {
      const got = await log.read(from, ALL, 25, 1 << 20);
      assert.deepEqual(got.map((r) => r.offset), Array.from({ length: Math.min(25, 60 - from) }, (_, k) => from + k));
    }
    const raw = await log.readRaw(0, 1 << 20);
    assert.ok(raw.count > 0 && raw.nextOffset === raw.count, 'readRaw stops at a segment end');
    await log.close();

    const reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.equal(reopened.logEndOffset(), 60);
    assert.equal((await reopened.read(0, ALL, 100, 1 << 20)).length, 60);
    assert.equal((await reopened.append([rec(60)], 1)).baseOffset, 60);
    await reopened.close();
  });

  it('truncates across segment boundaries: files, index, epoch cache and high-water mark', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 30; i += 3) await log.append(recs(i, 3), 1);
    for (let i = 30; i < 60; i += 3) await log.append(recs(i, 3), 2);
    for (let i = 60; i < 90; i += 3) await log.append(recs(i, 3), 5);
    assert.deepEqual(log.epochs(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 30 },
      { epoch: 5, startOffset: 60 },
    ]);
    log.setHighWatermark(80);
    const before = (await segmentFiles()).length;

    await log.truncateTo(25);
    assert.equal(log.logEndOffset(), 25);
    assert.equal(log.highWatermark(), 25);
    assert.deepEqual(log.epochs(), [{ epoch: 1, startOffset: 0 }]);
    assert.equal(log.lastEpoch(), 1);
    assert.ok((await segmentFiles()).length < before);
    const left = await log.read(0, ALL, 1000, 1 << 20);
    assert.deepEqual(left.map((r) => r.offset), Array.from({ length: 25 }, (_, i) => i));
    assert.deepEqual(await log.read(25, ALL, 10, 1 << 20), []);
    assert.equal((await log.readRaw(25, 1 << 20)).count, 0);

    await log.truncateTo(100); // past the end: nothing to do
    assert.equal(log.logEndOffset(), 25);
    assert.deepEqual(await log.append(recs(1000, 40), 7), { baseOffset: 25, lastOffset: 64 });
    assert.deepEqual(log.epochs(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 7, startOffset: 25 },
    ]);
    await log.close();

    const reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.equal(reopened.recovery.truncatedBytes, 0);
    assert.equal(reopened.recovery.rebuiltIndexes, 0);
    assert.equal(reopened.logEndOffset(), 65);
    assert.equal(reopened.highWatermark(), 25);
    assert.deepEqual(reopened.epochs(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 7, startOffset: 25 },
    ]);
    const got = await reopened.read(20, ALL, 10, 1 << 20);
    assert.deepEqual(got.map((r) => [r.offset, r.epoch, r.payload]), [
      ...[20, 21, 22, 23, 24].map((o) => [o, 1, rec(o).payload]),
      ...[25, 26, 27, 28, 29].map((o) => [o, 7, rec(1000 + o - 25).payload]),
    ]);
    await reopened.truncateTo(0);
    assert.equal(reopened.logEndOffset(), 0);
    assert.deepEqual(reopened.epochs(), []);
    assert.deepEqual(await segmentFiles(), ['00000000000000000000.log']);
    await reopened.close();
  });

  it('refuses appends with an epoch older than the last one', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    await log.append(recs(0, 2), 3);
    await assert.rejects(log.append(recs(2, 1), 2), /epoch 2/);
    assert.equal(log.logEndOffset(), 2);
    assert.deepEqual(await log.append(recs(2, 1), 3), { baseOffset: 2, lastOffset: 2 });
    await log.close();
  });

  it('replicates with readRaw/appendRaw: the follower stores the leader bytes unchanged', async () => {
    const leader = await openPartitionLog(join(dir, 'leader'), 't', 0, logOptions(small));
    const follower = await openPartitionLog(join(dir, 'follower'), 't', 0, logOptions(small));
    await leader.append(recs(0, 10), 1);
    await leader.append(recs(10, 15), 4);
    for (let next = 0; next < leader.logEndOffset(); ) {
      const batch = await leader.readRaw(next, 300);
      assert.equal(batch.baseOffset, next);
      assert.deepEqual(await follower.appendRaw(batch.bytes), { count: batch.count, nextOffset: batch.nextOffset });
      next = batch.nextOffset;
    }
    assert.equal(follower.logEndOffset(), 25);
    assert.deepEqual(follower.epochs(), leader.epochs());
    assert.deepEqual(await follower.read(0, ALL, 100, 1 << 20), await leader.read(0, ALL, 100, 1 << 20));
    assert.deepEqual((await follower.readRaw(3, 1 << 20)).bytes, (await leader.readRaw(3, 1 << 20)).bytes);
    await leader.close();
    await follower.close();
  });

  it('appendRaw rejects a bad CRC, a gap, an overlap and a torn batch, changing nothing', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    await log.appendRaw(encodeRecords(recs(0, 5), 0, 2));
    const size = (await stat(join(dir, '00000000000000000000.log'))).size;
    const good = encodeRecords(recs(5, 3), 5, 2);
    const flipped = Buffer.from(good);
    flipped[good.length - 2]! ^= 0x01;
    const cases: [string, Buffer, RegExp][] = [
      ['bad crc', flipped, /CRC/],
      ['gap', encodeRecords(recs(5, 3), 6, 2), /expected offset 5, found 6/],
      ['overlap', encodeRecords(recs(5, 3), 4, 2), /expected offset 5, found 4/],
      ['torn', good.subarray(0, good.length - 1), /ends inside a record/],
      ['older epoch', encodeRecords(recs(5, 3), 5, 1), /older than the log's last epoch 2/],
    ];
    for (const [name, bytes, message] of cases) {
      await assert.rejects(log.appendRaw(bytes), message, name);
      assert.equal(log.logEndOffset(), 5, name);
      assert.equal((await stat(join(dir, '00000000000000000000.log'))).size, size, name);
      assert.deepEqual(log.epochs(), [{ epoch: 2, startOffset: 0 }], name);
    }
    assert.deepEqual(await log.appendRaw(good), { count: 3, nextOffset: 8 });
    assert.deepEqual(await log.appendRaw(Buffer.alloc(0)), { count: 0, nextOffset: 8 });
    await log.close();
  });

  it('checkpoints the high-water mark on flush and close, and clamps it to the log end at open', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    await log.append(recs(0, 10), 1);
    log.setHighWatermark(4);
    log.setHighWatermark(2); // lower: ignored
    assert.equal(log.highWatermark(), 4);
    log.setHighWatermark(50); // past the end: clamped
    assert.equal(log.highWatermark(), 10);
    log.setHighWatermark(7);
    assert.equal(log.highWatermark(), 10);
    await log.flush();
    assert.equal(await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8'), 'v1 10 2707236321\n', 'the value and its CRC-32');
    await log.close();

    let reopened = await openPartitionLog(dir, 't', 0, logOptions());
    assert.equal(reopened.highWatermark(), 10);
    await reopened.close();

    await writeFile(join(dir, HIGH_WATERMARK_FILE), highWatermarkText(12345));
    reopened = await openPartitionLog(dir, 't', 0, logOptions());
    assert.equal(reopened.highWatermark(), 10);
    await reopened.close();

    await writeFile(join(dir, HIGH_WATERMARK_FILE), 'garbage');
    reopened = await openPartitionLog(dir, 't', 0, logOptions());
    assert.equal(reopened.highWatermark(), 0);
    await reopened.close();
  });

  for (const fsync of ['never', 'always'] as const) {
    it(`gives concurrent appends contiguous, disjoint offsets in call order (fsync ${fsync})`, async () => {
      const log = await openPartitionLog(dir, 't', 0, logOptions({ ...small, fsync }));
      const sizes = Array.from({ length: 200 }, (_, i) => 1 + (i % 4));
      const readers: Promise<unknown>[] = [];
      const results = await Promise.all(
        sizes.map((n, i) => {
          if (i % 10 === 0) readers.push(log.read(0, ALL, 1000, 1 << 20)); // reads alongside never see half a record
          return log.append(recs(i * 10, n), 1);
        }),
      );
      await Promise.all(readers);
      let next = 0;
      for (const [i, r] of results.entries()) {
        assert.deepEqual(r, { baseOffset: next, lastOffset: next + sizes[i]! - 1 });
        next += sizes[i]!;
      }
      const all = await log.read(0, ALL, 10_000, 1 << 24);
      assert.equal(all.length, next);
      for (const [i, r] of results.entries()) {
        assert.equal(all[r.baseOffset]?.payload, rec(i * 10).payload);
        assert.equal(all[r.lastOffset]?.payload, rec(i * 10 + sizes[i]! - 1).payload);
      }
      await log.close();
    });
  }

  it('rejects every call after close', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions());
    await log.append(recs(0, 1), 1);
    await Promise.all([log.close(), log.close()]);
    await assert.rejects(log.append(recs(1, 1), 1), /closed/);
    await assert.rejects(log.read(0, ALL, 1, 1), /closed/);
  });

  it('rebuilds a missing leader-epoch checkpoint from the records, and drops entries past the log end', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    await log.append(recs(0, 20), 1);
    await log.append(recs(20, 20), 3);
    await log.append(recs(40, 5), 4);
    await log.close();
    const expected = [
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 20 },
      { epoch: 4, startOffset: 40 },
    ];
    const checkpoint = join(dir, 'leader-epoch-checkpoint');
    await rm(checkpoint);
    let reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.deepEqual(reopened.epochs(), expected);
    await reopened.close();
    assert.deepEqual(JSON.parse(await readFile(checkpoint, 'utf8')).epochs, expected);

    // A checkpoint written ahead of the records (crash before the write) is cut back to the log end.
    await writeFile(checkpoint, JSON.stringify({ version: 1, epochs: [...expected, { epoch: 9, startOffset: 45 }] }));
    reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.deepEqual(reopened.epochs(), expected);
    await reopened.close();

    // One that misses the last epoch (crash before it was persisted) gets it from the last segment.
    await writeFile(checkpoint, JSON.stringify({ version: 1, epochs: expected.slice(0, 2) }));
    reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.deepEqual(reopened.epochs(), expected);
    await reopened.close();

    // One that contradicts the records of the last segment (the one scanned at open) is rebuilt.
    await writeFile(checkpoint, JSON.stringify({ version: 1, epochs: [...expected.slice(0, 2), { epoch: 4, startOffset: 43 }] }));
    reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.deepEqual(reopened.epochs(), expected);
    await reopened.close();
    await writeFile(checkpoint, '{"version":1,"epochs":[{"epoch":3,"startOffset":0},{"epoch":1,"startOffset":5}]}');
    reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.deepEqual(reopened.epochs(), expected);
    await reopened.close();
  });
});
