import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HIGH_WATERMARK_FILE } from '../../../broker-runtime/src/log/high-watermark.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import type { FilePartitionLog } from '../../../broker-runtime/src/log/partition-log.js';
import { scanRecords } from '../../../broker-runtime/src/log/record-codec.js';
import { UNCLEAN_FILE } from '../../../broker-runtime/src/log/unclean-marker.js';
import type { LogOptions } from '../../../broker-runtime/src/log/types.js';
import { collectLines, logOptions, recs, tempDir } from './helpers.js';

/**
 * Invariant (DESIGN.md guarantee 5, and issue 6): a torn tail is cut silently, as before, but damage
 * to committed data — a flipped bit with valid records after it, anything wrong in a closed segment,
 * a bad record below the checkpointed high-water mark — marks the partition unclean: the log is cut
 * before the damage, unclean() is true (so the broker must not lead), the mark survives restarts,
 * and it is lifted only once the records are re-fetched from a leader (appendRaw), never by the
 * replica's own appends.
 */
const RECORDS = 40;
const small: Partial<LogOptions> = { segmentBytes: 1500, indexIntervalBytes: 200 };

type Files = Map<string, Buffer>;

async function snapshot(dir: string): Promise<Files> {
  const out: Files = new Map();
  for (const name of await readdir(dir)) out.set(name, await readFile(join(dir, name)));
  return out;
}

/** Put the folder back exactly as `files` (removing anything else, such as the unclean mark). */
async function restore(dir: string, files: Files): Promise<void> {
  for (const name of await readdir(dir)) if (!files.has(name)) await rm(join(dir, name));
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
}

/** Record start positions of one segment file. */
function recordStarts(bytes: Buffer): number[] {
  const starts: number[] = [];
  scanRecords(bytes, { onRecord: (pos) => starts.push(pos) });
  return starts;
}

/** Bring `follower` up to `leader`'s log end the way replication does: the leader's bytes, appendRaw. */
async function refetch(follower: FilePartitionLog, leader: FilePartitionLog): Promise<void> {
  while (follower.logEndOffset() < leader.logEndOffset()) {
    const raw = await leader.readRaw(follower.logEndOffset(), 4096);
    await follower.appendRaw(raw.bytes);
  }
}

describe('damage to committed data marks the partition unclean', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let dir: string;
  let leader: FilePartitionLog;
  let pristine: Files;
  let segments: string[];

  before(async () => {
    ({ dir: root, cleanup } = await tempDir());
    dir = join(root, 'replica');
    const leaderDir = join(root, 'leader');
    for (const d of [dir, leaderDir]) {
      const log = await openPartitionLog(d, 't', 0, logOptions(small));
      await log.append(recs(0, RECORDS / 2), 1);
      for (let i = RECORDS / 2; i < RECORDS; i += 4) await log.append(recs(i, 4), 2);
      await log.close();
    }
    pristine = await snapshot(dir);
    segments = [...pristine.keys()].filter((n) => n.endsWith('.log')).sort();
    assert.ok(segments.length >= 3, `several segments: ${segments.join(', ')}`);
    leader = await openPartitionLog(leaderDir, 't', 0, logOptions(small));
  });
  after(async () => {
    await leader.close();
    await cleanup();
  });

  /** Damage the replica's files with `damage`, reopen, and return the log and its log lines. */
  async function reopenDamaged(damage: (files: Files) => void, options: Partial<LogOptions> = {}): Promise<{ log: FilePartitionLog; lines: string[] }> {
    const files: Files = new Map([...pristine].map(([n, b]) => [n, Buffer.from(b)]));
    damage(files);
    await restore(dir, files);
    const { lines, logger } = collectLines();
    return { log: await openPartitionLog(dir, 't', 0, logOptions({ ...small, ...options, logger })), lines };
  }

  /** First offset stored in a segment file (its name). */
  const baseOf = (segment: string) => Number(segment.slice(0, 20));

  it('a bit flipped in the middle of the last segment: cut there, unclean, lifted after re-fetching', async () => {
    const last = segments[segments.length - 1]!;
    const starts = recordStarts(pristine.get(last)!);
    assert.ok(starts.length >= 3);
    const victim = 1; // not the last record: valid ones follow it
    const { log, lines } = await reopenDamaged((f) => {
      f.get(last)![starts[victim]! + 30]! ^= 0x10;
    });
    const cutAt = baseOf(last) + victim;
    assert.equal(log.logEndOffset(), cutAt);
    assert.equal(log.unclean(), true);
    assert.equal(log.recovery.truncatedBytes, pristine.get(last)!.length - starts[victim]!);
    assert.ok(lines.some((l) => l.includes('UNCLEAN') && l.includes(`record ${cutAt}`)), lines.join('\n'));
    await log.close();

    // The mark is on disk: a restart before re-fetching does not forget it.
    const again = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.equal(again.unclean(), true, 'still unclean after a restart');
    await refetch(again, leader);
    assert.equal(again.unclean(), false, 'clean once the leader records are back');
    assert.deepEqual(await again.read(0, RECORDS, RECORDS, 1 << 20), await leader.read(0, RECORDS, RECORDS, 1 << 20));
    await again.close();
    assert.ok(!(await readdir(dir)).includes(UNCLEAN_FILE), 'the mark file is gone');
  });

  it('a flip at any byte of a record in the middle of the last segment is caught', async () => {
    const last = segments[segments.length - 1]!;
    const starts = recordStarts(pristine.get(last)!);
    const from = starts[1]!;
    const to = starts[2]!;
    for (let at = from; at < to; at++) {
      const { log } = await reopenDamaged((f) => {
        f.get(last)![at]! ^= 0x01;
      });
      assert.equal(log.unclean(), true, `byte ${at - from} of the record`);
      assert.equal(log.logEndOffset(), baseOf(last) + 1, `byte ${at - from} of the record`);
      await log.close();
    }
  });

  it('a bit flipped in a closed segment: later segments dropped, unclean, every record re-fetched', async () => {
    const first = segments[0]!;
    const starts = recordStarts(pristine.get(first)!);
    const victim = Math.floor(starts.length / 2);
    const { log, lines } = await reopenDamaged((f) => {
      f.get(first)![starts[victim]! + 25]! ^= 0x80;
    });
    assert.equal(log.logEndOffset(), victim);
    assert.equal(log.unclean(), true);
    const later = segments.slice(1).reduce((n, s) => n + pristine.get(s)!.length, 0);
    assert.equal(log.recovery.truncatedBytes, pristine.get(first)!.length - starts[victim]! + later);
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.log')), [first]);
    assert.deepEqual(log.epochs(), [{ epoch: 1, startOffset: 0 }], 'the epoch cache is cut too');
    assert.ok(lines.some((l) => l.includes('UNCLEAN') && l.includes('closed segment')), lines.join('\n'));
    // The segments the cut deleted are no second loss: none is reported as missing.
    assert.ok(!lines.some((l) => l.includes('is missing')), lines.join('\n'));
    assert.ok(!log.uncleanState()!.reason.includes('missing'), log.uncleanState()!.reason);
    await refetch(log, leader);
    assert.equal(log.unclean(), false);
    assert.deepEqual(log.epochs(), leader.epochs());
    assert.deepEqual(await log.read(0, RECORDS, RECORDS, 1 << 20), await leader.read(0, RECORDS, RECORDS, 1 << 20));
    await log.close();
  });

  it('a closed segment cut at every byte inside its last two records recovers to the last whole record, unclean', async () => {
    const closed = segments[1]!;
    const bytes = pristine.get(closed)!;
    const starts = recordStarts(bytes);
    const later = segments.slice(2).reduce((n, s) => n + pristine.get(s)!.length, 0);
    for (let cut = starts[starts.length - 2]!; cut < bytes.length; cut++) {
      const whole = starts.filter((s) => s < cut).length - (starts.includes(cut) ? 0 : 1);
      const boundary = starts[whole] ?? bytes.length;
      const { log } = await reopenDamaged((f) => f.set(closed, bytes.subarray(0, cut)));
      assert.equal(log.logEndOffset(), baseOf(closed) + whole, `cut at ${cut}`);
      assert.equal(log.recovery.truncatedBytes, cut - boundary + later, `cut at ${cut}: bytes reported`);
      assert.equal(log.unclean(), true, `cut at ${cut}`);
      await log.close();
    }
  });

  it('garbage after a closed segment\'s last record is damage too', async () => {
    const closed = segments[0]!;
    const { log } = await reopenDamaged((f) => f.set(closed, Buffer.concat([f.get(closed)!, Buffer.from('not a record at all')])));
    assert.equal(log.unclean(), true);
    assert.equal(log.logEndOffset(), baseOf(segments[1]!));
    await log.close();
  });

  it('a torn or garbled tail of the last segment is cut as before and is not unclean', async () => {
    const last = segments[segments.length - 1]!;
    const bytes = pristine.get(last)!;
    const starts = recordStarts(bytes);
    // A crash tears only records written since the active segment's index was last written (at
    // its roll or at a clean close, after an fsync): that index never names them. An index that
    // does is evidence of lost records (lost-records.test.ts).
    const lastIndex = last.replace(/\.log$/, '.index');
    for (let cut = starts[starts.length - 2]!; cut < bytes.length; cut++) {
      const { log } = await reopenDamaged((f) => {
        f.set(last, bytes.subarray(0, cut));
        f.delete(lastIndex);
      });
      assert.equal(log.unclean(), false, `torn at ${cut}`);
      await log.close();
    }
    const { log } = await reopenDamaged((f) => f.set(last, Buffer.concat([bytes, Buffer.alloc(30, 0xee)])));
    assert.equal(log.unclean(), false, 'garbage after the last record');
    assert.equal(log.logEndOffset(), RECORDS);
    await log.close();
  });

  it('a bad last record below the checkpointed high-water mark was committed: unclean', async () => {
    const last = segments[segments.length - 1]!;
    const bytes = pristine.get(last)!;
    const starts = recordStarts(bytes);
    const { log } = await reopenDamaged((f) => {
      f.get(last)![starts[starts.length - 1]! + 30]! ^= 0x02;
      f.set(HIGH_WATERMARK_FILE, Buffer.from(`${RECORDS}\n`));
    });
    assert.equal(log.logEndOffset(), RECORDS - 1);
    assert.equal(log.unclean(), true);
    assert.equal(log.highWatermark(), RECORDS - 1, 'the high-water mark is clamped to what is left');
    await log.close();
  });

  it("the replica's own appends never lift the mark: only a leader's records do", async () => {
    const last = segments[segments.length - 1]!;
    const starts = recordStarts(pristine.get(last)!);
    const { log } = await reopenDamaged((f) => {
      f.get(last)![starts[1]! + 30]! ^= 0x04;
    });
    await log.append(recs(0, RECORDS), 3);
    assert.ok(log.logEndOffset() > RECORDS);
    assert.equal(log.unclean(), true);
    await log.close();
  });

  it('an unreadable mark file keeps the partition unclean', async () => {
    await restore(dir, pristine);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, UNCLEAN_FILE), '{ torn');
    const { lines, logger } = collectLines();
    const log = await openPartitionLog(dir, 't', 0, logOptions({ ...small, logger }));
    assert.equal(log.unclean(), true);
    assert.ok(lines.some((l) => l.includes('unreadable')), lines.join('\n'));
    await log.close();
  });
});
