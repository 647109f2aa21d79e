import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HIGH_WATERMARK_FILE } from '../../../broker-runtime/src/log/high-watermark.js';
import { EPOCH_CHECKPOINT_FILE, endOffsetForEpoch } from '../../../broker-runtime/src/log/leader-epoch-cache.js';
import { highWatermarkAtOpen, loadState, openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import { segmentFileName } from '../../../broker-runtime/src/log/log-segment.js';
import type { FilePartitionLog } from '../../../broker-runtime/src/log/partition-log.js';
import { encodeRecords } from '../../../broker-runtime/src/log/record-codec.js';
import type { LogOptions } from '../../../broker-runtime/src/log/types.js';
import { collectLines, logOptions, rec, recs, tempDir } from './helpers.js';

/**
 * The log loader's decisions, one situation on disk each: what the log opens with (log end,
 * high-water mark, epochs), what it reports (RecoveryReport.state) and whether the partition is
 * unclean (may not lead until it re-fetched what it lost). Bad disk content never throws.
 */
const ALL = Number.MAX_SAFE_INTEGER;
const small: Partial<LogOptions> = { segmentBytes: 600, indexIntervalBytes: 100 };

describe('the log loader decides', () => {
  let root: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  /** Logs left open on purpose (a crash: never closed) are closed here, after the test. */
  const abandoned: FilePartitionLog[] = [];
  beforeEach(async () => {
    ({ dir: root, cleanup } = await tempDir());
    dir = join(root, 't-0');
  });
  afterEach(async () => {
    for (const l of abandoned.splice(0)) await l.close().catch(() => undefined);
    await cleanup();
  });

  async function open(options: Partial<LogOptions> = {}): Promise<{ log: FilePartitionLog; lines: string[] }> {
    const { lines, logger } = collectLines();
    return { log: await openPartitionLog(dir, 't', 0, logOptions({ ...options, logger })), lines };
  }

  /** A log of `count` records of epoch 1 (appended 4 at a time: a roll happens between appends), committed up to `committed`, closed cleanly. */
  async function written(count: number, committed = 0, options: Partial<LogOptions> = {}): Promise<void> {
    const { log } = await open(options);
    for (let i = 0; i < count; i += 4) await log.append(recs(i, Math.min(4, count - i)), 1);
    log.setHighWatermark(committed);
    await log.close();
  }

  const segmentsOnDisk = async () => (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();

  it('a folder that does not exist: created, an empty log whose first segment is already on disk', async () => {
    const { log } = await open();
    assert.equal(log.recovery.state, 'created');
    assert.equal(log.logEndOffset(), 0);
    assert.equal(log.highWatermark(), 0);
    assert.equal(log.unclean(), false);
    assert.deepEqual(await segmentsOnDisk(), [segmentFileName(0, '.log')], 'the first append only writes: no file to create then');
    const names = await readdir(dir);
    assert.ok(!names.includes(HIGH_WATERMARK_FILE) && !names.includes(EPOCH_CHECKPOINT_FILE), `no checkpoint that says nothing: ${names.join(', ')}`);
    await log.close();
  });

  it('an empty partition (a folder with no segment, or only an empty one): clean, empty, no checkpoint written', async () => {
    await mkdir(dir);
    const { log } = await open();
    assert.equal(log.recovery.state, 'clean');
    assert.equal(log.logEndOffset(), 0);
    await log.close();
    const again = (await open()).log;
    assert.equal(again.recovery.state, 'clean');
    assert.equal(again.logEndOffset(), 0);
    assert.equal(again.lastEpoch(), -1);
    await again.close();
    const names = await readdir(dir);
    assert.ok(!names.includes(HIGH_WATERMARK_FILE) && !names.includes(EPOCH_CHECKPOINT_FILE), names.join(', '));
  });

  it('a torn tail (half a record after the last whole one): cut, recovered, not unclean', async () => {
    await written(5);
    const half = encodeRecords([rec(5)], 5, 1).subarray(0, 20);
    await appendFile(join(dir, segmentFileName(0, '.log')), half);
    const { log, lines } = await open();
    assert.equal(log.recovery.state, 'recovered');
    assert.equal(log.recovery.truncatedBytes, half.length);
    assert.equal(log.logEndOffset(), 5);
    assert.equal(log.unclean(), false, lines.join('\n'));
    assert.equal((await log.append([rec(5)], 1)).baseOffset, 5, 'the next append continues at the cut');
    await log.close();
  });

  it('a high-water mark checkpoint ahead of the log end: clamped to the log end, unclean until re-fetched up to it, no crash', async () => {
    await written(5, 5);
    await writeFile(join(dir, HIGH_WATERMARK_FILE), '9\n');
    const { log, lines } = await open();
    assert.equal(log.recovery.state, 'unclean');
    assert.equal(log.unclean(), true);
    assert.equal(log.highWatermark(), 5, 'high-water mark <= log end offset');
    assert.equal(log.logEndOffset(), 5);
    assert.ok(lines.some((l) => l.includes('UNCLEAN') && l.includes('high-water mark checkpoint 9 is past the log end 5') && l.includes('re-fetched up to offset 9')), lines.join('\n'));
    await log.close();
  });

  it('an unreadable high-water mark checkpoint reads as none: clean, not past anything, named in a warning', async () => {
    await written(5, 5);
    await writeFile(join(dir, HIGH_WATERMARK_FILE), 'garbage\n');
    const { log, lines } = await open();
    assert.equal(log.recovery.state, 'clean');
    assert.equal(log.highWatermark(), 0);
    assert.ok(lines.some((l) => l.includes(`${HIGH_WATERMARK_FILE} is damaged`)), lines.join('\n'));
    await log.close();
  });

  it('a missing segment in the middle: the log is cut where the gap starts, unclean', async () => {
    await written(40, 40, small);
    const segments = await segmentsOnDisk();
    assert.ok(segments.length >= 3, segments.join(', '));
    const gone = segments[1]!;
    await rm(join(dir, gone));
    const { log, lines } = await open(small);
    assert.equal(log.recovery.state, 'unclean');
    assert.equal(log.unclean(), true);
    assert.equal(log.logEndOffset(), Number(gone.slice(0, 20)), 'ends where the missing segment began');
    assert.ok(log.highWatermark() <= log.logEndOffset());
    assert.deepEqual(await segmentsOnDisk(), [segments[0]], 'the segments after the gap are dropped (re-fetched from the leader)');
    assert.ok(lines.some((l) => l.includes('UNCLEAN')), lines.join('\n'));
    await log.close();
  });

  it('the last segment missing: the log ends at its base, unclean', async () => {
    await written(40, 40, small);
    const segments = await segmentsOnDisk();
    const last = segments[segments.length - 1]!;
    await rm(join(dir, last));
    const { log, lines } = await open(small);
    assert.equal(log.recovery.state, 'unclean');
    assert.equal(log.logEndOffset(), Number(last.slice(0, 20)));
    assert.ok(lines.some((l) => l.includes('UNCLEAN') && l.includes(`${last} is missing`)), lines.join('\n'));
    await log.close();
  });

  it('the first segment missing: the log starts at the next one, reported as data loss', async () => {
    await written(40, 40, small);
    const segments = await segmentsOnDisk();
    await rm(join(dir, segments[0]!));
    const { log, lines } = await open(small);
    assert.equal(log.logStartOffset(), Number(segments[1]!.slice(0, 20)));
    assert.equal(log.logEndOffset(), 40);
    assert.ok(lines.some((l) => l.includes('DATA LOSS')), lines.join('\n'));
    // It must not lead: every replica follows a leader's log start and would delete its copies.
    assert.equal(log.unclean(), true, 'unclean while records at its front are missing');
    await log.leaderLogStartSeen(Number(segments[1]!.slice(0, 20)) - 1);
    assert.equal(log.unclean(), true, 'a leader still holding some of them keeps it unclean');
    await log.close();
    const again = await open(small);
    assert.equal(again.log.unclean(), true, 'the mark survives a restart');
    await again.log.leaderLogStartSeen(Number(segments[1]!.slice(0, 20)));
    assert.equal(again.log.unclean(), false, 'lifted once a leader\'s log start has passed them');
    await again.log.close();
  });

  it('a crash right after the first record into a new partition (fsync always): the record is there, its epoch found from the records', async () => {
    const crashed = (await open({ fsync: 'always' })).log;
    abandoned.push(crashed);
    await crashed.append([rec(0)], 4);
    assert.ok(!(await readdir(dir)).includes(EPOCH_CHECKPOINT_FILE), 'the epoch checkpoint is not written in the append path');
    const { log } = await open({ fsync: 'always' });
    assert.equal(log.recovery.state, 'clean');
    assert.equal(log.unclean(), false);
    assert.equal(log.logEndOffset(), 1);
    assert.deepEqual(log.epochs(), [{ epoch: 4, startOffset: 0 }]);
    assert.deepEqual(await log.read(0, ALL, 10, 1 << 20), [{ ...rec(0), offset: 0, epoch: 4 }]);
    await log.close();
  });

  it('an epoch checkpoint lagging behind the last segment (a crash before its deferred write): the epochs are added back from the records', async () => {
    await written(3);
    const crashed = (await open()).log;
    abandoned.push(crashed);
    await crashed.append(recs(3, 2), 2);
    assert.deepEqual(JSON.parse(await readFile(join(dir, EPOCH_CHECKPOINT_FILE), 'utf8')).epochs, [{ epoch: 1, startOffset: 0 }], 'not yet written');
    const { log } = await open();
    assert.equal(log.unclean(), false);
    assert.deepEqual(log.epochs(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 3 }]);
    await log.close();
  });

  it('an epoch that began in a segment before the last is in the checkpoint: a roll writes it first', async () => {
    const crashed = (await open(small)).log;
    abandoned.push(crashed);
    await crashed.append(recs(0, 2), 1);
    await crashed.append(recs(2, 2), 2);
    for (let i = 4; (await segmentsOnDisk()).length < 3; i++) await crashed.append([rec(i)], 2);
    const checkpoint = JSON.parse(await readFile(join(dir, EPOCH_CHECKPOINT_FILE), 'utf8')) as { epochs: unknown };
    assert.deepEqual(checkpoint.epochs, [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 2 }]);
    const { log } = await open(small);
    assert.deepEqual(log.epochs(), crashed.epochs());
    assert.equal(log.logEndOffset(), crashed.logEndOffset());
    await log.close();
  });

  it('an epoch checkpoint that contradicts the records of a closed segment (an entry moved): rebuilt from the records, so divergence answers stay true', async () => {
    // Only the last segment used to be held against the checkpoint: an epoch start moved inside an
    // older segment (a flipped digit still parses) answered a follower that epoch 1 ended later than
    // it did, so the follower kept records of epoch 1 that the leader had replaced.
    const { log: first } = await open(small);
    for (let i = 0; i < 6; i++) await first.append([rec(i)], 1);
    for (let i = 6; i < 12; i++) await first.append([rec(i)], 2);
    for (let i = 12; (await segmentsOnDisk()).length < 6; i++) await first.append([rec(i)], 3);
    const truth = first.epochs();
    assert.deepEqual(truth.slice(0, 2), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 6 }]);
    const end = first.logEndOffset();
    await first.close();
    const lastBase = Number((await segmentsOnDisk()).at(-1)!.slice(0, 20));
    assert.ok(truth[2]!.startOffset < lastBase, 'every epoch change is in a closed segment');
    for (const moved of [{ epoch: 2, startOffset: 9 }, { epoch: 2, startOffset: 3 }]) {
      const garbled = { version: 1, epochs: truth.map((e) => (e.epoch === 2 ? moved : e)) };
      await writeFile(join(dir, EPOCH_CHECKPOINT_FILE), JSON.stringify(garbled) + '\n');
      const { log, lines } = await open(small);
      try {
        assert.deepEqual(log.epochs(), truth, `checkpoint with ${JSON.stringify(moved)}`);
        assert.deepEqual(endOffsetForEpoch(log.epochs(), 1, log.logEndOffset()), { epoch: 1, endOffset: 6 });
        assert.equal(log.logEndOffset(), end);
        assert.ok(lines.some((l) => l.includes('leader-epoch cache rebuilt from the records')), lines.join(' | '));
      } finally {
        await log.close();
      }
      assert.deepEqual(JSON.parse(await readFile(join(dir, EPOCH_CHECKPOINT_FILE), 'utf8')).epochs, truth, 'the checkpoint is rewritten');
    }
  });
});

describe('the loader\'s pure decisions', () => {
  it('holds the high-water mark checkpoint against the log end', () => {
    assert.deepEqual(highWatermarkAtOpen(0, 0), { kind: 'within-log', highWatermark: 0 });
    assert.deepEqual(highWatermarkAtOpen(5, 5), { kind: 'within-log', highWatermark: 5 });
    assert.deepEqual(highWatermarkAtOpen(3, 5), { kind: 'within-log', highWatermark: 3 });
    assert.deepEqual(highWatermarkAtOpen(9, 5), { kind: 'ahead-of-log', highWatermark: 5, checkpoint: 9 });
  });

  it('names the state: unclean over recovered over clean', () => {
    assert.equal(loadState({ truncatedBytes: 0, rebuiltIndexes: 0, unclean: false }), 'clean');
    assert.equal(loadState({ truncatedBytes: 7, rebuiltIndexes: 0, unclean: false }), 'recovered');
    assert.equal(loadState({ truncatedBytes: 0, rebuiltIndexes: 1, unclean: false }), 'recovered');
    assert.equal(loadState({ truncatedBytes: 7, rebuiltIndexes: 1, unclean: true }), 'unclean');
  });
});
