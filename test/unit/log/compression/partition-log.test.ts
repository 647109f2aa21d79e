import assert from 'node:assert/strict';
import { readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { segmentFileName } from '../../../../broker-runtime/src/log/log-segment.js';
import { openPartitionLog } from '../../../../broker-runtime/src/log/log-loader.js';
import { largestTimestamp } from '../../../../broker-runtime/src/log/segment-timestamps.js';
import { scanRecords } from '../../../../broker-runtime/src/log/record-codec.js';
import type { StoredRecord } from '../../../../broker-runtime/src/log/types.js';
import { collectLines, logOptions, recs, tempDir } from '../helpers.js';

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const offsets = (rs: StoredRecord[]) => rs.map((r) => r.offset);

/** 0..9 plain, 10..109 gzip, 110..114 plain, 115..314 lz4, 315 lz4 (a batch of one). */
async function fill(log: Awaited<ReturnType<typeof openPartitionLog>>): Promise<void> {
  await log.append(recs(0, 10), 1);
  await log.append(recs(10, 100), 1, 'gzip');
  await log.append(recs(110, 5), 2, 'none');
  await log.append(recs(115, 200), 2, 'lz4');
  await log.append(recs(315, 1), 3, 'lz4');
}

describe('a partition log holding compressed batches', () => {
  it('reads every offset back, from inside batches too, bounded by upTo and maxRecords', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // A small index interval and segments: batches cross index entries and rolls.
      const log = await openPartitionLog(dir, 't', 0, logOptions({ indexIntervalBytes: 256, segmentBytes: 4096 }));
      await fill(log);
      assert.equal(log.logEndOffset(), 316);
      assert.deepEqual(log.epochs(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 110 }, { epoch: 3, startOffset: 315 }]);
      for (let from = 0; from < 316; from++) {
        const got = await log.read(from, 316, 1000, 1 << 20);
        assert.deepEqual(offsets(got), range(from, 316), `from ${from}`);
      }
      assert.deepEqual(offsets(await log.read(20, 50, 1000, 1 << 20)), range(20, 50), 'a high-water mark inside a batch hides the rest');
      assert.deepEqual(offsets(await log.read(105, 316, 7, 1 << 20)), range(105, 112));
      const all = await log.read(0, 316, 1000, 1 << 20);
      assert.deepEqual(all.map((r) => r.payload), recs(0, 316).map((r) => r.payload));
      // readEncoded gives plain records only (the consume answer splices them).
      const enc = Buffer.concat(await log.readEncoded(50, 120, 1000, 1 << 20));
      assert.ok(!enc.includes(Buffer.from([0xff, 0xff, 0xff, 0xfe])));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('replicates stored entries whole to a follower, which reads the same records', async () => {
    const a = await tempDir();
    const b = await tempDir();
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const leader = await openPartitionLog(a.dir, 't', 0, logOptions({ segmentBytes: 4096 }));
      const follower = await openPartitionLog(b.dir, 't', 0, logOptions({ segmentBytes: 4096 }));
      await fill(leader);
      while (follower.logEndOffset() < leader.logEndOffset()) {
        const raw = await leader.readRaw(follower.logEndOffset(), 1000);
        assert.equal(raw.baseOffset, follower.logEndOffset());
        await follower.appendRaw(raw.bytes);
      }
      assert.deepEqual(await follower.read(0, 316, 1000, 1 << 20), await leader.read(0, 316, 1000, 1 << 20));
      assert.deepEqual(follower.epochs(), leader.epochs());
      // Bytes on disk are the leader's.
      assert.deepEqual((await leader.readRaw(0, 1 << 20)).bytes, (await follower.readRaw(0, 1 << 20)).bytes);
      // A read from inside a batch ships the batch from its start.
      const inside = await leader.readRaw(50, 1 << 20);
      assert.equal(inside.baseOffset, 10);
      // A broken batch from a leader changes nothing.
      const end = follower.logEndOffset();
      const c = await tempDir();
      cleanups.push(c.cleanup);
      const more = await openPartitionLog(c.dir, 't', 0, logOptions());
      await more.append(recs(0, 316), 3);
      await more.append(recs(316, 20), 3, 'gzip');
      const good = (await more.readRaw(316, 1 << 20)).bytes;
      const bad = Buffer.from(good);
      bad[good.length - 3]! ^= 1;
      await assert.rejects(follower.appendRaw(bad), /CRC/);
      assert.equal(follower.logEndOffset(), end);
      // A good CRC over a batch that does not hold what it says (a hostile or broken leader): refused too.
      const liar = Buffer.from(good);
      liar.writeUInt32BE(liar.readUInt32BE(33) + 1, 33); // count
      liar.writeUInt32BE(crc32(liar.subarray(8)), 4);
      await assert.rejects(follower.appendRaw(liar), /holds 20 record\(s\), its header says 21/);
      assert.equal(follower.logEndOffset(), end);
      assert.deepEqual(follower.epochs(), leader.epochs());
      await follower.appendRaw(good);
      assert.equal(follower.logEndOffset(), 336);
      await Promise.all([leader.close(), follower.close(), more.close()]);
    } finally {
      await a.cleanup();
      await b.cleanup();
      for (const c of cleanups) await c();
    }
  });

  it('rounds a truncation inside a batch down to its start, never below the high-water mark', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { lines, logger } = collectLines();
      const log = await openPartitionLog(dir, 't', 0, logOptions({ logger }));
      await fill(log);
      log.setHighWatermark(110);
      await log.truncateTo(200);
      assert.equal(log.logEndOffset(), 115);
      assert.ok(lines.some((l) => l.includes('rounded down to 115')));
      assert.deepEqual(offsets(await log.read(0, 115, 1000, 1 << 20)), range(0, 115));
      await log.append(recs(115, 200), 2, 'lz4');
      log.setHighWatermark(120);
      await assert.rejects(log.truncateTo(200), /inside the compressed batch starting at 115.*high-water mark 120/);
      assert.equal(log.logEndOffset(), 315);
      await log.truncateTo(115); // a boundary below the high-water mark: as asked (a follower's divergence)
      assert.equal(log.logEndOffset(), 115);
      await log.truncateTo(110); // a boundary: as asked
      assert.equal(log.logEndOffset(), 110);
      assert.deepEqual(log.epochs(), [{ epoch: 1, startOffset: 0 }]);
      await log.append(recs(110, 3), 4, 'gzip');
      await log.close();
      const again = await openPartitionLog(dir, 't', 0, logOptions());
      assert.deepEqual(offsets(await again.read(0, 113, 1000, 1 << 20)), range(0, 113));
      await again.close();
    } finally {
      await cleanup();
    }
  });

  it('cuts a torn or corrupt compressed tail at open, and the log goes on from the batch start', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openPartitionLog(dir, 't', 0, logOptions());
      await log.append(recs(0, 5), 1, 'gzip');
      await log.append(recs(5, 50), 1, 'lz4');
      await log.close();
      const file = join(dir, segmentFileName(0, '.log'));
      const pristine = await readFile(file);
      const lastStart = (await openPartitionLog(dir, 't', 0, logOptions()).then(async (l) => {
        const raw = await l.readRaw(5, 1 << 20);
        await l.close();
        return pristine.length - raw.bytes.length;
      }));
      for (const damage of ['torn', 'flip'] as const) {
        const bytes = Buffer.from(pristine);
        if (damage === 'flip') bytes[lastStart + 60]! ^= 0x40;
        await writeFile(file, damage === 'torn' ? bytes.subarray(0, lastStart + 30) : bytes);
        const { lines, logger } = collectLines();
        const reopened = await openPartitionLog(dir, 't', 0, logOptions({ logger }));
        assert.equal(reopened.logEndOffset(), 5, damage);
        assert.equal((await stat(file)).size, lastStart);
        assert.ok(lines.some((l) => l.includes('cut')), damage);
        assert.deepEqual(offsets(await reopened.read(0, 5, 100, 1 << 20)), range(0, 5));
        await reopened.append(recs(5, 2), 2, 'gzip');
        assert.deepEqual(offsets(await reopened.read(3, 7, 100, 1 << 20)), range(3, 7));
        await reopened.close();
        await writeFile(file, pristine);
        await truncate(join(dir, segmentFileName(0, '.index')), 0);
      }
    } finally {
      await cleanup();
    }
  });

  it('keeps offset index, epochs and timestamps right across closed segments of batches', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openPartitionLog(dir, 't', 0, logOptions({ indexIntervalBytes: 128, segmentBytes: 2048 }));
      for (let i = 0; i < 40; i++) await log.append(recs(i * 10, 10), 1 + Math.floor(i / 10), i % 2 ? 'gzip' : 'lz4');
      await log.close();
      const reopened = await openPartitionLog(dir, 't', 0, logOptions({ indexIntervalBytes: 128, segmentBytes: 2048 }), { cleanShutdown: false });
      assert.equal(reopened.logEndOffset(), 400);
      assert.deepEqual(reopened.epochs(), [1, 2, 3, 4].map((epoch, i) => ({ epoch, startOffset: i * 100 })));
      for (let from = 0; from < 400; from += 3) assert.deepEqual(offsets(await reopened.read(from, from + 5, 5, 1 << 20)), range(from, Math.min(400, from + 5)));
      await reopened.close();
      // Every index entry names a batch start (its offset a multiple of 10).
      const index = await readFile(join(dir, segmentFileName(0, '.index')));
      for (let at = 0; at < index.length; at += 8) assert.equal(index.readUInt32BE(at) % 10, 0);
      const ts = await openPartitionLog(dir, 't', 0, logOptions({ indexIntervalBytes: 128, segmentBytes: 2048 }));
      const seg = (ts as unknown as { segments: Parameters<typeof largestTimestamp>[0][] }).segments[0]!;
      const first = await ts.read(0, 400, 1000, 1 << 20);
      const inFirst = first.filter((r) => r.offset < (ts as unknown as { segments: { baseOffset: number }[] }).segments[1]!.baseOffset);
      assert.equal(await largestTimestamp(seg), Math.max(...inFirst.map((r) => r.timestamp)));
      await ts.close();
    } finally {
      await cleanup();
    }
  });

  it('a corrupt batch in a closed segment marks the partition unclean; re-fetching the batch lifts it', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const options = logOptions({ segmentBytes: 2048, indexIntervalBytes: 128 });
      const dirs = { leader: join(root, 'leader'), replica: join(root, 'replica') };
      for (const d of Object.values(dirs)) {
        const log = await openPartitionLog(d, 't', 0, options);
        for (let i = 0; i < 30; i++) await log.append(recs(i * 10, 10), 1, i % 2 ? 'gzip' : 'lz4');
        log.setHighWatermark(300);
        await log.close();
      }
      const first = join(dirs.replica, (await readdir(dirs.replica)).filter((n) => n.endsWith('.log')).sort()[0]!);
      const bytes = await readFile(first);
      const starts: number[] = [];
      scanRecords(bytes, { onRecord: (pos) => starts.push(pos) });
      assert.ok(starts.length >= 3);
      bytes[starts[1]! + 50]! ^= 0x08; // inside the second batch's compressed bytes
      await writeFile(first, bytes);
      const { lines, logger } = collectLines();
      const replica = await openPartitionLog(dirs.replica, 't', 0, { ...options, logger });
      assert.equal(replica.unclean(), true, lines.join('\n'));
      assert.equal(replica.logEndOffset(), 10, 'cut before the damaged batch');
      const leader = await openPartitionLog(dirs.leader, 't', 0, options);
      while (replica.logEndOffset() < leader.logEndOffset()) await replica.appendRaw((await leader.readRaw(replica.logEndOffset(), 4096)).bytes);
      assert.equal(replica.unclean(), false);
      assert.deepEqual(await replica.read(0, 300, 1000, 1 << 20), await leader.read(0, 300, 1000, 1 << 20));
      await Promise.all([replica.close(), leader.close()]);
    } finally {
      await cleanup();
    }
  });
});
