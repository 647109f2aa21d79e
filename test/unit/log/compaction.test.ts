import assert from 'node:assert/strict';
import { readdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LATEST_WINS } from '../../../broker-runtime/src/log/compaction.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import { toProduceRecord } from '../../../broker-runtime/src/kafka/record-mapping.js';
import type { FilePartitionLog } from '../../../broker-runtime/src/log/partition-log.js';
import type { CompactionOptions, RecordInput, StoredRecord } from '../../../broker-runtime/src/log/types.js';
import { logOptions, tempDir } from './helpers.js';

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const STEPS = ['temp-written', 'index-removed', 'log-renamed', 'index-renamed', 'dir-synced'] as const;
type Step = (typeof STEPS)[number];

/** Record n of a run that writes `keys` keys round-robin: key k<n % keys>, value n. */
function keyed(n: number, keys: number, timestamp = NOW - 1000): RecordInput {
  return { key: `k${n % keys}`, payload: JSON.stringify({ n }), headers: {}, timestamp };
}

async function everything(log: FilePartitionLog): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (let next = log.logStartOffset(); next < log.highWatermark(); ) {
    const got = await log.read(next, log.highWatermark(), 100, 1 << 20);
    if (got.length === 0) break;
    out.push(...got);
    next = got[got.length - 1]!.offset + 1;
  }
  return out;
}

/** Latest payload per key (null keys by offset), as a reader folding the whole log sees them. */
function latest(records: StoredRecord[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of records) m.set(r.key ?? `#${r.offset}`, r.payload);
  return m;
}

const options = (o: Partial<CompactionOptions> = {}): CompactionOptions => ({ nowMs: NOW, deleteRetentionMs: DAY, ...o });

describe('log compaction (cleanup.policy=compact)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('yak-compact-')));
  afterEach(() => cleanup());

  /** 600 records over 10 keys in ~1.5 KB segments, all committed. */
  async function filled(): Promise<FilePartitionLog> {
    const log = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 1500, indexIntervalBytes: 200 }));
    for (let i = 0; i < 600; i += 20) await log.append(Array.from({ length: 20 }, (_, k) => keyed(i + k, 10)), 1);
    log.setHighWatermark(log.logEndOffset());
    return log;
  }

  it('keeps the latest record per key, offsets keep their numbers, reads skip the gaps, the active segment is untouched', async () => {
    const log = await filled();
    const before = await everything(log);
    const activeBase = log.logEndOffset();
    const report = await log.compact(LATEST_WINS, options());
    assert.ok(report.segments > 0 && report.removed > 0, JSON.stringify(report));
    assert.ok(report.bytesAfter < report.bytesBefore / 3);
    const after = await everything(log);
    assert.deepEqual(latest(after), latest(before));
    for (const r of after) assert.deepEqual(r, before.find((b) => b.offset === r.offset), `record ${r.offset} kept as it was`);
    assert.ok(after.length < before.length);
    assert.equal(log.logEndOffset(), activeBase);
    // Every record of the last (active) segment is still there, superseded or not.
    const tail = before.filter((r) => r.offset >= 580);
    for (const r of tail) assert.ok(after.some((a) => a.offset === r.offset), `active-segment record ${r.offset} kept`);
    // A read starting inside a gap lands on the next record kept.
    const gapAt = before.find((r) => r.offset >= log.logStartOffset() && !after.some((a) => a.offset === r.offset))!.offset;
    const fromGap = await log.read(gapAt, log.highWatermark(), 1, 1 << 20);
    assert.equal(fromGap[0]!.offset, after.find((a) => a.offset > gapAt)!.offset);
    // Segments left with only gaps at the front are gone: the log starts after them.
    assert.ok(log.logStartOffset() > 0);
    // A second pass finds nothing new to do.
    assert.equal((await log.compact(LATEST_WINS, options())).segments, 0);
    await log.close();
  });

  it('never touches what lies above the high-water mark', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 1500 }));
    for (let i = 0; i < 300; i += 20) await log.append(Array.from({ length: 20 }, (_, k) => keyed(i + k, 5)), 1);
    log.setHighWatermark(10); // inside the first segment: no closed segment lies wholly below
    assert.equal((await log.compact(LATEST_WINS, options())).segments, 0);
    assert.equal((await everything(log)).length, 10);
    await log.close();
  });

  it('reopens after compaction with the same contents, and replicas (appendRaw of readRaw) accept the gaps, even from inside one', async () => {
    const log = await filled();
    await log.compact(LATEST_WINS, options());
    const compacted = await everything(log);
    await log.close();
    const reopened = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 1500, indexIntervalBytes: 200 }));
    assert.deepEqual(await everything(reopened), compacted);

    // A follower whose log ends inside a gap (one past a record removed here) catches up from this log.
    const start = reopened.logStartOffset();
    const gapAt = [...Array(reopened.logEndOffset()).keys()].find((o) => o > start && !compacted.some((r) => r.offset === o))!;
    const { dir: fdir, cleanup: fclean } = await tempDir('yak-compact-f-');
    try {
      const follower = await openPartitionLog(fdir, 't', 0, logOptions({ segmentBytes: 1500 }));
      await follower.restartAt(start);
      await follower.append(Array.from({ length: gapAt - start }, (_, k) => keyed(start + k, 10)), 1);
      for (let next = gapAt; next < reopened.logEndOffset(); ) {
        const raw = await reopened.readRaw(next, 4096);
        assert.equal(raw.baseOffset, next);
        assert.ok(raw.count > 0);
        next = (await follower.appendRaw(raw.bytes)).nextOffset;
      }
      follower.setHighWatermark(follower.logEndOffset());
      assert.equal(follower.logEndOffset(), reopened.logEndOffset());
      assert.deepEqual(latest(await everything(follower)), latest(compacted));
      await follower.close();
    } finally {
      await fclean();
    }
    await reopened.close();
  });

  it('a crash at every step of the swap leaves a readable log with the same latest values', async () => {
    for (const [stop, nth] of STEPS.flatMap((s): [Step, number][] => (s === 'dir-synced' ? [[s, 1]] : [[s, 1], [s, 2]]))) {
      const { dir: d, cleanup: c } = await tempDir('yak-compact-crash-');
      try {
        const log = await openPartitionLog(d, 't', 0, logOptions({ segmentBytes: 1500, indexIntervalBytes: 200, fsync: 'always' }));
        for (let i = 0; i < 400; i += 20) await log.append(Array.from({ length: 20 }, (_, k) => keyed(i + k, 7)), 1);
        log.setHighWatermark(log.logEndOffset());
        await log.flush();
        const before = latest(await everything(log));
        const end = log.logEndOffset();
        let seen = 0;
        // Stop the first or the second time the step comes round (the second: a segment already swapped, the next not).
        const crash = new Error(`crash at ${stop} #${nth}`);
        await assert.rejects(
          log.compact(LATEST_WINS, options({ step: (name) => { if (name === stop && ++seen === nth) throw crash; } })),
          (err) => err === crash,
        );
        // The process "dies": the files are opened afresh, the old object is abandoned.
        const reopened = await openPartitionLog(d, 't', 0, logOptions({ segmentBytes: 1500, indexIntervalBytes: 200, fsync: 'always' }));
        assert.equal(reopened.logEndOffset(), end, `after a crash at ${stop}`);
        assert.deepEqual(latest(await everything(reopened)), before, `after a crash at ${stop}`);
        assert.ok(!(await readdir(d)).some((n) => n.endsWith('.tmp')), 'temp files removed at open');
        // And compaction finishes on the reopened log.
        await reopened.compact(LATEST_WINS, options());
        assert.deepEqual(latest(await everything(reopened)), before);
        await reopened.close();
      } finally {
        await c();
      }
    }
  });

  it('compressed batches are expanded: kept records stay readable, removed ones become gaps', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 1500 }));
    for (let i = 0; i < 200; i += 20) await log.append(Array.from({ length: 20 }, (_, k) => keyed(i + k, 4)), 1, 'gzip');
    await log.append([keyed(999, 1000)], 1);
    log.setHighWatermark(log.logEndOffset());
    const before = latest(await everything(log));
    await log.compact(LATEST_WINS, options());
    assert.deepEqual(latest(await everything(log)), before);
    await log.close();
  });

  it('a tombstone (payload null) standing for its key is kept delete.retention.ms, then dropped', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 600 }));
    await log.append([keyed(0, 2), keyed(1, 2)], 1);
    await log.append([{ key: 'k0', payload: 'null', headers: {}, timestamp: NOW - 2 * DAY }], 1);
    for (let i = 0; i < 20; i++) await log.append([{ key: `other${i}`, payload: '1', headers: {}, timestamp: NOW }], 1);
    log.setHighWatermark(log.logEndOffset());
    await log.compact(LATEST_WINS, options({ deleteRetentionMs: 3 * DAY }));
    assert.ok((await everything(log)).some((r) => r.key === 'k0' && r.payload === 'null'), 'young tombstone kept');
    // A tombstone's age counts from its segment file's last write too (tombstoneTime): past both.
    await log.compact(LATEST_WINS, options({ nowMs: Math.max(NOW, Date.now()) + DAY + 60_000, deleteRetentionMs: DAY, force: true }));
    const after = await everything(log);
    assert.ok(!after.some((r) => r.key === 'k0'), 'old tombstone and what it deleted are gone');
    assert.ok(after.some((r) => r.key === 'k1'));
    await log.close();
  });

  it('a binary Kafka key and the UTF-8 key spelling its base64 are different keys: neither compacts the other away', async () => {
    // A Kafka key that is not UTF-8 is stored as its base64 text, marked yak.key: base64. Compared as
    // strings, a client producing the UTF-8 key "//4=" deleted the latest value of the key ff fe.
    const binary = toProduceRecord({ timestamp: NOW, key: Buffer.from([0xff, 0xfe]), value: Buffer.from('"binary"'), headers: [] }, 0);
    const lookalike = toProduceRecord({ timestamp: NOW, key: Buffer.from('//4='), value: Buffer.from('"text"'), headers: [] }, 0);
    assert.equal(binary.key, lookalike.key, 'the same stored key string');
    const log = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 600 }));
    const stored = (r: typeof binary): RecordInput => ({ key: r.key, payload: r.payload, headers: r.headers, timestamp: NOW });
    await log.append([stored(binary)], 1);
    await log.append([stored(lookalike)], 1);
    for (let i = 0; i < 20; i++) await log.append([keyed(i, 5)], 1);
    log.setHighWatermark(log.logEndOffset());
    await log.compact(LATEST_WINS, options());
    const left = await everything(log);
    assert.ok(left.some((r) => r.offset === 0 && r.payload === '"binary"'), 'the binary key keeps its value');
    assert.ok(left.some((r) => r.offset === 1 && r.payload === '"text"'));
    assert.ok(!left.some((r) => r.key === 'k0' && r.offset < 5), 'other superseded keys are still compacted');
    await log.close();
  });

  it("a tombstone's delete.retention.ms counts from when the broker wrote it, not from the producer's timestamp", async () => {
    // A Kafka producer's CreateTime can be anything from 0 (MirrorMaker and replays keep the source's):
    // a tombstone stamped in 1970 was dropped by the first compaction, before lagging consumers saw the delete.
    const log = await openPartitionLog(dir, 't', 0, logOptions({ segmentBytes: 600 }));
    await log.append([keyed(0, 2), keyed(1, 2)], 1);
    await log.append([{ key: 'k0', payload: 'null', headers: {}, timestamp: 0 }], 1);
    for (let i = 0; i < 20; i++) await log.append([{ key: `other${i}`, payload: '1', headers: {}, timestamp: 0 }], 1);
    log.setHighWatermark(log.logEndOffset());
    const tombstoneSegment = join(dir, (await readdir(dir)).filter((n) => n.endsWith('.log')).sort()[0]!);
    // Written 18 hours ago by the broker's clock.
    const written = Date.now() - 0.75 * DAY;
    await utimes(tombstoneSegment, new Date(written), new Date(written));
    const first = await log.compact(LATEST_WINS, options({ nowMs: Date.now(), deleteRetentionMs: DAY }));
    assert.ok(first.removed >= 1, 'the record the tombstone deletes is compacted away (the segment is rewritten)');
    assert.ok((await everything(log)).some((r) => r.key === 'k0' && r.payload === 'null'), 'a tombstone written 18 h ago is kept for a day');
    assert.ok(Math.abs((await stat(tombstoneSegment)).mtimeMs - written) < 1000, 'the rewritten segment keeps its modification time');
    // A day after the broker wrote it (not after the rewrite) it goes.
    await log.compact(LATEST_WINS, options({ nowMs: written + DAY + 60_000, deleteRetentionMs: DAY, force: true }));
    assert.ok(!(await everything(log)).some((r) => r.key === 'k0'), 'dropped once a day old');
    await log.close();
  });
});
