import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HIGH_WATERMARK_FILE } from '../../../broker-runtime/src/log/high-watermark.js';
import { EPOCH_CHECKPOINT_FILE } from '../../../broker-runtime/src/log/leader-epoch-cache.js';
import { findLostRecords, type EndEvidence } from '../../../broker-runtime/src/log/lost-records.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import type { FilePartitionLog } from '../../../broker-runtime/src/log/partition-log.js';
import { scanRecords } from '../../../broker-runtime/src/log/record-codec.js';
import { UNCLEAN_FILE } from '../../../broker-runtime/src/log/unclean-marker.js';
import type { LogOptions } from '../../../broker-runtime/src/log/types.js';
import { collectLines, logOptions, recs, tempDir } from './helpers.js';

/**
 * Invariant (issue 10, item 1): a replica whose log reached further than the records left — its
 * last segment deleted or emptied, its tail lost — must not look complete. Any evidence that it
 * held more (the high-water mark checkpoint, the leader-epoch cache or an offset index naming
 * offsets past the log end, an index file whose segment is gone) marks the partition unclean at
 * open, so the broker does not lead and re-fetches; a clean restart and a torn tail do not.
 */
const RECORDS = 60;
/** The newest epoch starts here: inside the last segment. */
const EPOCH_2_AT = 50;
const small: Partial<LogOptions> = { segmentBytes: 1500, indexIntervalBytes: 200 };

describe('findLostRecords: evidence that the log reached further than its records', () => {
  const none: EndEvidence = { highWatermarkCheckpoint: 0, epochEntries: [{ epoch: 1, startOffset: 0 }], indexes: [] };

  it('finds nothing in a log whose evidence stays within its end', () => {
    assert.equal(findLostRecords({ ...none, highWatermarkCheckpoint: 40, indexes: [{ baseOffset: 30, lastEntryOffset: 39, orphan: false }] }, 40), undefined);
  });

  it('a high-water mark checkpoint past the log end: re-fetch up to it', () => {
    assert.deepEqual(findLostRecords({ ...none, highWatermarkCheckpoint: 90 }, 40)?.until, 90);
  });

  it('an epoch starting at or past the log end: re-fetch past its first record', () => {
    const lost = findLostRecords({ ...none, epochEntries: [{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 40 }] }, 40);
    assert.equal(lost?.until, 41);
    assert.match(lost!.reasons[0]!, /epoch 4 starting at offset 40/);
  });

  it('an index naming an offset past the log end, or an index whose segment is gone', () => {
    assert.equal(findLostRecords({ ...none, indexes: [{ baseOffset: 30, lastEntryOffset: 55, orphan: false }] }, 40)?.until, 56);
    const missing = findLostRecords({ ...none, indexes: [{ baseOffset: 40, lastEntryOffset: undefined, orphan: true }] }, 40);
    assert.equal(missing?.until, 41);
    assert.match(missing!.reasons[0]!, /00000000000000000040\.log is missing/);
  });

  it('takes the furthest of several pieces of evidence and lists them all', () => {
    const lost = findLostRecords({ highWatermarkCheckpoint: 70, epochEntries: [{ epoch: 2, startOffset: 45 }], indexes: [{ baseOffset: 40, lastEntryOffset: 80, orphan: true }] }, 40);
    assert.equal(lost?.until, 81);
    assert.equal(lost?.reasons.length, 4);
  });
});

describe('records lost past the log end mark the partition unclean at open', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let dir: string;
  let leader: FilePartitionLog;
  let pristine: Map<string, Buffer>;
  let last: string;

  before(async () => {
    ({ dir: root, cleanup } = await tempDir());
    dir = join(root, 'replica');
    for (const d of [dir, join(root, 'leader')]) {
      const log = await openPartitionLog(d, 't', 0, logOptions(small));
      for (let i = 0; i < EPOCH_2_AT; i += 5) await log.append(recs(i, 5), 1);
      await log.append(recs(EPOCH_2_AT, RECORDS - EPOCH_2_AT), 2);
      log.setHighWatermark(RECORDS);
      await log.close(); // writes the checkpoint and the active segment's index
    }
    pristine = new Map();
    for (const name of await readdir(dir)) pristine.set(name, await readFile(join(dir, name)));
    const logs = [...pristine.keys()].filter((n) => n.endsWith('.log')).sort();
    assert.ok(logs.length >= 3, `several segments: ${logs.join(', ')}`);
    last = logs[logs.length - 1]!;
    assert.ok(baseOf(last) < EPOCH_2_AT, `epoch 2 starts inside the last segment ${last}`);
    leader = await openPartitionLog(join(root, 'leader'), 't', 0, logOptions(small));
  });
  after(async () => {
    await leader.close();
    await cleanup();
  });

  const baseOf = (name: string) => Number(name.slice(0, 20));
  const indexOf = (name: string) => name.replace(/\.log$/, '.index');

  /** Byte position of record `offset` in the segment file `name`. */
  function positionOf(name: string, offset: number): number {
    let at = -1;
    scanRecords(pristine.get(name)!, { onRecord: (pos, _size, o) => (o === offset ? (at = pos) : undefined) });
    assert.ok(at >= 0, `offset ${offset} in ${name}`);
    return at;
  }

  /** Put the replica folder back as `files` (anything else removed), then open it. */
  async function reopen(change: (files: Map<string, Buffer>) => void): Promise<{ log: FilePartitionLog; lines: string[] }> {
    const files = new Map([...pristine].map(([n, b]) => [n, Buffer.from(b)]));
    change(files);
    for (const name of await readdir(dir)) if (!files.has(name)) await rm(join(dir, name));
    for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
    const { lines, logger } = collectLines();
    return { log: await openPartitionLog(dir, 't', 0, logOptions({ ...small, logger })), lines };
  }

  /** The leader's records, appended as replication does; the mark lifts once they reach `until`. */
  async function refetch(log: FilePartitionLog): Promise<void> {
    while (log.logEndOffset() < leader.logEndOffset()) await log.appendRaw((await leader.readRaw(log.logEndOffset(), 4096)).bytes);
  }

  const hwmFile = (n: number) => Buffer.from(`${n}\n`);

  it('a clean restart is not unclean', async () => {
    const { log } = await reopen(() => {});
    assert.equal(log.unclean(), false);
    assert.equal(log.logEndOffset(), RECORDS);
    await log.close();
  });

  it('(a) the last segment deleted: unclean, stays so across a restart, lifted once re-fetched', async () => {
    const { log, lines } = await reopen((f) => f.delete(last));
    assert.equal(log.logEndOffset(), baseOf(last));
    assert.equal(log.unclean(), true);
    assert.ok(lines.some((l) => l.includes('UNCLEAN') && l.includes('is missing') && l.includes(`high-water mark checkpoint ${RECORDS}`)), lines.join('\n'));
    assert.ok(!(await readdir(dir)).includes(indexOf(last)), 'the orphaned index is gone once the mark holds it');
    await log.close();

    const again = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.equal(again.unclean(), true, 'still unclean after a restart');
    await again.append(recs(0, 5), 3);
    assert.equal(again.unclean(), true, "the replica's own records do not lift it");
    await again.truncateTo(baseOf(last));
    await refetch(again);
    assert.equal(again.unclean(), false);
    assert.deepEqual(await again.read(0, RECORDS, RECORDS, 1 << 20), await leader.read(0, RECORDS, RECORDS, 1 << 20));
    await again.close();
    assert.ok(!(await readdir(dir)).includes(UNCLEAN_FILE));
  });

  it('(b) only the leader-epoch cache knows of more: unclean', async () => {
    const { log, lines } = await reopen((f) => {
      f.set(last, f.get(last)!.subarray(0, positionOf(last, EPOCH_2_AT)));
      f.delete(indexOf(last));
      f.set(HIGH_WATERMARK_FILE, hwmFile(EPOCH_2_AT));
    });
    assert.equal(log.logEndOffset(), EPOCH_2_AT);
    assert.equal(log.unclean(), true);
    assert.ok(lines.some((l) => l.includes('UNCLEAN') && l.includes(`epoch 2 starting at offset ${EPOCH_2_AT}`)), lines.join('\n'));
    assert.deepEqual(log.epochs(), [{ epoch: 1, startOffset: 0 }], 'the cache is trimmed to the records');
    await log.close();
  });

  it('(b) only the offset index knows of more: unclean', async () => {
    const cutAt = baseOf(last) + 1;
    const { log, lines } = await reopen((f) => {
      f.set(last, f.get(last)!.subarray(0, positionOf(last, cutAt)));
      f.set(HIGH_WATERMARK_FILE, hwmFile(cutAt));
      f.set(EPOCH_CHECKPOINT_FILE, Buffer.from(JSON.stringify({ version: 1, epochs: [{ epoch: 1, startOffset: 0 }] })));
    });
    assert.equal(log.logEndOffset(), cutAt);
    assert.equal(log.unclean(), true);
    assert.ok(lines.some((l) => l.includes('UNCLEAN') && l.includes(`${indexOf(last)} indexes offset`)), lines.join('\n'));
    await log.close();
  });

  it('an index entry whose offset field is damaged (it points at a whole record of another offset) is no evidence: clean, not unclean for good', async () => {
    // The last entry's relative offset (its first 4 bytes) garbled: it names an offset no leader
    // will ever reach, so taken as evidence the mark could never be lifted.
    const { log, lines } = await reopen((f) => {
      const index = f.get(indexOf(last))!;
      assert.ok(index.length >= 8, 'the last segment has index entries');
      index.writeUInt32BE(0x5a000000, index.length - 8);
    });
    assert.equal(log.logEndOffset(), RECORDS);
    assert.equal(log.unclean(), false, lines.join('\n'));
    await log.close();
  });

  it('(c) only the high-water mark checkpoint is ahead of the log end: unclean until re-fetched to it', async () => {
    const cutAt = baseOf(last) + 1;
    const { log, lines } = await reopen((f) => {
      f.set(last, f.get(last)!.subarray(0, positionOf(last, cutAt)));
      f.delete(indexOf(last));
    });
    assert.equal(log.logEndOffset(), cutAt);
    assert.equal(log.unclean(), true);
    assert.equal(log.highWatermark(), cutAt, 'clamped as before');
    assert.ok(lines.some((l) => l.includes('UNCLEAN') && l.includes(`re-fetched up to offset ${RECORDS}`)), lines.join('\n'));
    await refetch(log);
    assert.equal(log.unclean(), false);
    await log.close();
  });

  it('(d) the last segment emptied to zero bytes: unclean', async () => {
    const { log } = await reopen((f) => {
      f.set(last, Buffer.alloc(0));
      f.delete(indexOf(last));
    });
    assert.equal(log.logEndOffset(), baseOf(last));
    assert.equal(log.unclean(), true);
    await log.close();
  });

  it('a torn tail that no evidence speaks of stays a torn tail: cut, not unclean', async () => {
    const end = pristine.get(last)!.length;
    const { log } = await reopen((f) => {
      f.set(last, f.get(last)!.subarray(0, end - 7));
      f.delete(indexOf(last));
      f.set(HIGH_WATERMARK_FILE, hwmFile(RECORDS - 1));
    });
    assert.equal(log.logEndOffset(), RECORDS - 1);
    assert.equal(log.unclean(), false);
    await log.close();
  });
});
