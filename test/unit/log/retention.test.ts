import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { bareLogStartAtOpen, LOG_START_FILE, logStartAtOpen, readLogStart, segmentsBelowLogStart, writeLogStart } from '../../../broker-runtime/src/log/log-start.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import { segmentsToDelete, type SegmentSummary } from '../../../broker-runtime/src/log/retention.js';
import { applyConfigChange, checkTopicConfig, effectiveConfig, minInsyncReplicas, retentionPolicy } from '../../../broker-runtime/src/log/topic-config.js';
import type { LogOptions } from '../../../broker-runtime/src/log/types.js';
import { collectLines, logOptions, recs, tempDir } from './helpers.js';

const ALL = Number.MAX_SAFE_INTEGER;
const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

/** Segments of 100 offsets and 1000 bytes each, the i-th one's newest record `ages[i]` ms old. */
function segs(ages: number[]): SegmentSummary[] {
  return ages.map((age, i) => ({ baseOffset: i * 100, endOffset: (i + 1) * 100, bytes: 1000, largestTimestamp: NOW - age }));
}

describe('retention decisions (Kafka semantics)', () => {
  const timeOnly = { retentionMs: 10 * HOUR, retentionBytes: null };

  it('time: deletes the oldest segments whose newest record is older than retention.ms, stopping at the first younger one', () => {
    const d = segmentsToDelete(segs([20 * HOUR, 11 * HOUR, 1 * HOUR, 30 * HOUR, 0]), ALL, timeOnly, NOW);
    assert.equal(d.deleteCount, 2);
    assert.equal(d.logStartOffset, 200);
  });

  it('never deletes the active (last) segment, however old', () => {
    const d = segmentsToDelete(segs([20 * HOUR, 20 * HOUR, 20 * HOUR]), ALL, timeOnly, NOW);
    assert.equal(d.deleteCount, 2);
    assert.equal(d.logStartOffset, 200);
  });

  it('never deletes a segment that reaches past the high-water mark (end offset > hwm)', () => {
    assert.equal(segmentsToDelete(segs([20 * HOUR, 20 * HOUR, 20 * HOUR, 0]), 199, timeOnly, NOW).deleteCount, 1);
    assert.equal(segmentsToDelete(segs([20 * HOUR, 20 * HOUR, 20 * HOUR, 0]), 200, timeOnly, NOW).deleteCount, 2);
    assert.equal(segmentsToDelete(segs([20 * HOUR, 20 * HOUR]), 0, timeOnly, NOW).deleteCount, 0);
  });

  it('size: deletes oldest segments only while the partition keeps at least retention.bytes', () => {
    const policy = { retentionMs: null, retentionBytes: 2500 };
    // 5 x 1000 bytes: deleting 2 leaves 3000 >= 2500; a third would leave 2000 < 2500.
    const d = segmentsToDelete(segs([0, 0, 0, 0, 0]), ALL, policy, NOW);
    assert.equal(d.deleteCount, 2);
    assert.equal(d.logStartOffset, 200);
    assert.equal(segmentsToDelete(segs([0, 0, 0, 0, 0]), ALL, { retentionMs: null, retentionBytes: 5000 }, NOW).deleteCount, 0);
  });

  it('time and size together: a segment goes when either limit is breached', () => {
    const d = segmentsToDelete(segs([20 * HOUR, 0, 0, 0, 0]), ALL, { retentionMs: 10 * HOUR, retentionBytes: 3000 }, NOW);
    assert.equal(d.deleteCount, 2);
    assert.equal(d.reasons.length, 2);
  });

  it('unlimited (null) keeps everything; a future timestamp never expires', () => {
    assert.equal(segmentsToDelete(segs([20 * HOUR, 0]), ALL, { retentionMs: null, retentionBytes: null }, NOW).deleteCount, 0);
    assert.equal(segmentsToDelete(segs([-HOUR, 0]), ALL, { retentionMs: 0, retentionBytes: null }, NOW).deleteCount, 0);
  });
});

describe('topic config', () => {
  const defaults = { retentionMs: 168 * HOUR, retentionBytes: null, minInsync: 1 };

  it('accepts Kafka names with integers >= -1 and refuses unknown keys and bad values', () => {
    assert.deepEqual(checkTopicConfig({ 'retention.ms': 1000, 'retention.bytes': -1 }), { 'retention.ms': 1000, 'retention.bytes': -1 });
    assert.match(checkTopicConfig({ 'segment.ms': 1 }) as string, /unknown config key/);
    assert.deepEqual(checkTopicConfig({ 'cleanup.policy': 'compact', 'delete.retention.ms': 0 }), { 'cleanup.policy': 'compact', 'delete.retention.ms': 0 });
    assert.match(checkTopicConfig({ 'cleanup.policy': 'compact-all' }) as string, /cleanup.policy must be one of delete, compact, compact,delete/);
    assert.match(checkTopicConfig({ 'delete.retention.ms': -1 }) as string, /integer >= 0/);
    assert.match(checkTopicConfig({ 'retention.ms': -2 }) as string, /integer >= -1/);
    assert.match(checkTopicConfig({ 'retention.ms': 1.5 }) as string, /integer >= -1/);
    assert.match(checkTopicConfig({ 'retention.bytes': '100' }) as string, /integer >= -1/);
    assert.match(checkTopicConfig([]) as string, /JSON object/);
  });

  it('a change merges over the current overrides; null removes one', () => {
    assert.deepEqual(applyConfigChange({ 'retention.ms': 5 }, { 'retention.bytes': 10 }), { 'retention.ms': 5, 'retention.bytes': 10 });
    assert.deepEqual(applyConfigChange({ 'retention.ms': 5 }, { 'retention.ms': null }), {});
  });

  it('overrides win over the broker defaults; -1 is unlimited', () => {
    assert.deepEqual(retentionPolicy(defaults, undefined), { retentionMs: defaults.retentionMs, retentionBytes: defaults.retentionBytes });
    assert.deepEqual(retentionPolicy(defaults, { 'retention.ms': -1, 'retention.bytes': 4096 }), { retentionMs: null, retentionBytes: 4096 });
    assert.deepEqual(effectiveConfig(defaults, {}), { 'retention.ms': 168 * HOUR, 'retention.bytes': -1, 'compression.type': 'producer', 'min.insync.replicas': 1, 'cleanup.policy': 'delete', 'delete.retention.ms': 86_400_000 });
    assert.deepEqual(effectiveConfig(defaults, { 'compression.type': 'gzip' })['compression.type'], 'gzip');
  });

  it('min.insync.replicas: an integer >= 1 over the broker default (--min-insync)', () => {
    assert.deepEqual(checkTopicConfig({ 'min.insync.replicas': 2 }), { 'min.insync.replicas': 2 });
    for (const bad of [0, -1, 1.5, '2', null]) assert.match(checkTopicConfig({ 'min.insync.replicas': bad }) as string, /min\.insync\.replicas must be an integer >= 1/);
    assert.equal(minInsyncReplicas(2, undefined), 2);
    assert.equal(minInsyncReplicas(2, { 'min.insync.replicas': 1 }), 1);
    assert.deepEqual(applyConfigChange({ 'min.insync.replicas': 3 }, { 'min.insync.replicas': null }), {});
    assert.deepEqual(effectiveConfig({ ...defaults, minInsync: 2 }, { 'min.insync.replicas': 3 })['min.insync.replicas'], 3);
  });
});

describe('log start offset: decisions at open', () => {
  it('segments wholly below the log start are the ones the next segment starts at or before', () => {
    assert.deepEqual(segmentsBelowLogStart([0, 100, 200, 300], 200), [0, 100]);
    assert.deepEqual(segmentsBelowLogStart([0, 100, 200, 300], 250), [0, 100]);
    assert.deepEqual(segmentsBelowLogStart([0], 500), []);
    assert.deepEqual(segmentsBelowLogStart([0, 100], 0), []);
  });

  it('tells an interrupted restart and a lost front segment apart from a normal log', () => {
    assert.deepEqual(logStartAtOpen(200, 200, 350), { kind: 'ok', logStart: 200 });
    assert.deepEqual(logStartAtOpen(250, 200, 350), { kind: 'ok', logStart: 250 });
    assert.deepEqual(logStartAtOpen(500, 0, 120), { kind: 'restart', logStart: 500 });
    assert.deepEqual(logStartAtOpen(0, 300, 350), { kind: 'missing-front', logStart: 300, lostFrom: 0 });
  });
});

describe('partition log retention', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  const small: Partial<LogOptions> = { segmentBytes: 1000, indexIntervalBytes: 200 };
  const segmentFiles = async () => (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  const bases = async () => (await segmentFiles()).map((n) => Number(n.slice(0, 20)));

  it('deletes whole segments below the high-water mark, checkpoints the log start, and reads from it on', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 5) await log.append(recs(i, 5), 1);
    const before = await bases();
    assert.ok(before.length >= 4, `segments: ${before.join(',')}`);
    // Nothing is committed yet: nothing goes, however old.
    assert.equal((await log.applyRetention({ retentionMs: 0, retentionBytes: null }, NOW)).deleteCount, 0);
    log.setHighWatermark(before[2]!);
    const d = await log.applyRetention({ retentionMs: 0, retentionBytes: null }, NOW);
    assert.equal(d.deleteCount, 2);
    assert.equal(log.logStartOffset(), before[2]);
    assert.deepEqual(await bases(), before.slice(2));
    assert.equal(await readLogStart(dir, () => {}), before[2]);
    assert.deepEqual((await log.read(before[2]!, ALL, 1000, 1 << 20))[0]?.offset, before[2]);
    assert.deepEqual(await log.read(0, ALL, 1000, 1 << 20), []);
    await log.close();

    const reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.equal(reopened.logStartOffset(), before[2]);
    assert.equal(reopened.logEndOffset(), 60);
    assert.equal(reopened.unclean(), false);
    assert.ok(reopened.highWatermark() >= before[2]!);
    await reopened.close();
  });

  it('time retention compares the newest record of a segment with retention.ms', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 5) await log.append(recs(i, 5), 1);
    log.setHighWatermark(60);
    // rec(i).timestamp is 1_700_000_000_000 + i: with now = that + 10 + retention, records 0..9 are expired.
    const now = 1_700_000_000_000 + 10 + 1000;
    const d = await log.applyRetention({ retentionMs: 1000, retentionBytes: null }, now);
    const left = await bases();
    assert.ok(left[0]! <= 10 && d.logStartOffset === left[0], `log start ${d.logStartOffset}, segments ${left.join(',')}`);
    await log.close();
  });

  it('a damaged log start checkpoint (one digit changed) deletes nothing and empties nothing: every committed record stays', async () => {
    // The loader acts on this checkpoint (deletes segments below it, empties a log that ends below
    // it): a flipped digit in the bare number it used to be deleted committed segments, or the whole
    // partition, which then opened clean and could lead.
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 5) await log.append(recs(i, 5), 1);
    const before = await bases();
    assert.ok(before.length >= 5, `segments: ${before.join(',')}`);
    log.setHighWatermark(before[1]!);
    assert.equal((await log.applyRetention({ retentionMs: 0, retentionBytes: null }, NOW)).deleteCount, 1);
    log.setHighWatermark(60);
    await log.close();
    const kept = await bases();
    const written = await readFile(join(dir, LOG_START_FILE), 'utf8');
    const start = String(kept[0]);
    assert.ok(written.includes(start), written);
    // One digit more (start x10) lands inside the log; 9 in front lands past its end (a restart).
    for (const damaged of [written.replace(start, `${start}0`), written.replace(start, `9${start}`)]) {
      await writeFile(join(dir, LOG_START_FILE), damaged);
      const { lines, logger } = collectLines();
      const reopened = await openPartitionLog(dir, 't', 0, logOptions({ ...small, logger }));
      try {
        assert.deepEqual(await bases(), kept, `checkpoint ${JSON.stringify(damaged)}: no segment deleted`);
        assert.equal(reopened.logStartOffset(), kept[0]);
        assert.equal(reopened.logEndOffset(), 60);
        assert.deepEqual((await reopened.read(kept[0]!, ALL, 1000, 1 << 20)).map((r) => r.offset), Array.from({ length: 60 - kept[0]! }, (_, k) => kept[0]! + k));
        assert.ok(lines.some((l) => l.includes(`${LOG_START_FILE} is damaged`)), lines.join(' | '));
      } finally {
        await reopened.close();
      }
    }
  });

  it('an old-format (bare number) checkpoint deletes and empties nothing on its own say, is taken where the segments agree, and is rewritten checked', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 5) await log.append(recs(i, 5), 1);
    log.setHighWatermark(60);
    await log.close();
    const all = await bases();
    assert.ok(all.length >= 4, all.join(','));
    const inFirst = all[0]! + 1;
    // Whole segments below it (an interrupted deletion, or a damaged digit); past the log end (an
    // interrupted restart, or a damaged digit); inside the first segment (agrees: taken).
    for (const [bare, expected] of [[all[2]!, 0], [700, 0], [inFirst, inFirst]] as const) {
      await writeFile(join(dir, LOG_START_FILE), `${bare}\n`);
      const { lines, logger } = collectLines();
      const reopened = await openPartitionLog(dir, 't', 0, logOptions({ ...small, logger }));
      try {
        assert.deepEqual(await bases(), all, `bare ${bare}: no segment deleted`);
        assert.equal(reopened.logEndOffset(), 60, `bare ${bare}: nothing emptied`);
        assert.equal(reopened.unclean(), false);
        assert.equal(reopened.logStartOffset(), expected, `bare ${bare}`);
        assert.equal(lines.some((l) => l.includes('has no checksum')), expected !== bare, lines.join(' | '));
        assert.match(await readFile(join(dir, LOG_START_FILE), 'utf8'), new RegExp(`^v1 ${expected} \\d+\n$`), 'rewritten in the checked form');
        assert.equal(await readLogStart(dir, () => {}), expected);
      } finally {
        await reopened.close();
      }
    }
  });

  it('bareLogStartAtOpen: taken at or below the first base, or inside the first segment below the log end; else the first base', () => {
    assert.deepEqual(bareLogStartAtOpen(100, [100, 200, 300], 350), { logStart: 100, trusted: true });
    assert.deepEqual(bareLogStartAtOpen(50, [100, 200], 350), { logStart: 50, trusted: true }, 'a first segment above it: reported missing, as for a checked one');
    assert.deepEqual(bareLogStartAtOpen(150, [100, 200], 350), { logStart: 150, trusted: true });
    assert.deepEqual(bareLogStartAtOpen(200, [100, 200], 350), { logStart: 100, trusted: false }, 'a whole segment below it');
    assert.deepEqual(bareLogStartAtOpen(120, [100], 120), { logStart: 100, trusted: false }, 'at the log end: it would empty the log');
    assert.deepEqual(bareLogStartAtOpen(500, [], 0), { logStart: 0, trusted: false });
  });

  it('an open after a crash between the checkpoint and the deletion finishes the deletion, not an unclean mark', async () => {
    const { lines, logger } = collectLines();
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 5) await log.append(recs(i, 5), 1);
    log.setHighWatermark(60);
    await log.close();
    const before = await bases();
    await writeLogStart(dir, before[2]!, false);
    const reopened = await openPartitionLog(dir, 't', 0, logOptions({ ...small, logger }));
    assert.equal(reopened.logStartOffset(), before[2]);
    assert.deepEqual(await bases(), before.slice(2));
    assert.equal(reopened.unclean(), false, lines.join('\n'));
    assert.equal(reopened.logEndOffset(), 60);
    await reopened.close();
  });

  it('a lost first segment with no log start checkpoint to explain it is reported as data loss', async () => {
    const { lines, logger } = collectLines();
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 5) await log.append(recs(i, 5), 1);
    await log.close();
    const files = await segmentFiles();
    await rm(join(dir, files[0]!));
    const reopened = await openPartitionLog(dir, 't', 0, logOptions({ ...small, logger }));
    assert.ok(lines.some((l) => /DATA LOSS/.test(l)), lines.join('\n'));
    assert.equal(reopened.logStartOffset(), Number(files[1]!.slice(0, 20)));
    await reopened.close();
  });

  it('retention.bytes smaller than one segment keeps only the active segment', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 5) await log.append(recs(i, 5), 1);
    log.setHighWatermark(60);
    const before = await bases();
    await log.applyRetention({ retentionMs: null, retentionBytes: 1 }, NOW);
    assert.deepEqual(await bases(), before.slice(-1));
    assert.equal(log.logStartOffset(), before[before.length - 1]);
    await log.close();
  });

  it('a missing segment above the log start is still damage: the replica is marked unclean', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 60; i += 5) await log.append(recs(i, 5), 1);
    log.setHighWatermark(60);
    const before = await bases();
    await log.applyRetention({ retentionMs: null, retentionBytes: 2000 }, NOW);
    await log.close();
    const left = await bases();
    assert.ok(left.length >= 3 && left[0]! > 0, left.join(','));
    await rm(join(dir, (await segmentFiles())[1]!));
    const reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.equal(reopened.unclean(), true);
    await reopened.close();
  });

  it('restartAt empties the log and starts it at an offset; advanceLogStart drops whole segments below the leader\'s start', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 20; i += 5) await log.append(recs(i, 5), 3);
    await assert.rejects(log.restartAt(10), /holds records/);
    await log.restartAt(500);
    assert.equal(log.logStartOffset(), 500);
    assert.equal(log.logEndOffset(), 500);
    assert.equal(log.highWatermark(), 500);
    assert.deepEqual(log.epochs(), []);
    assert.deepEqual(await bases(), [500]);
    await log.close();
    const reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.equal(reopened.logStartOffset(), 500);
    assert.equal(reopened.logEndOffset(), 500);
    for (let i = 0; i < 40; i += 5) await reopened.append(recs(i, 5), 4);
    assert.equal(reopened.logEndOffset(), 540);
    const segsNow = await bases();
    reopened.setHighWatermark(540);
    await reopened.advanceLogStart(segsNow[1]! + 1);
    assert.equal(reopened.logStartOffset(), segsNow[1]! + 1);
    assert.deepEqual(await bases(), segsNow.slice(1));
    assert.equal((await reopened.read(segsNow[1]! + 1, ALL, 1, 1 << 20))[0]?.offset, segsNow[1]! + 1);
    await assert.rejects(reopened.truncateTo(segsNow[1]!), /below the log start/);
    await reopened.close();
  });

  it('an open after a crash inside a restart (checkpoint written, old segments still there) finishes it', async () => {
    const log = await openPartitionLog(dir, 't', 0, logOptions(small));
    for (let i = 0; i < 20; i += 5) await log.append(recs(i, 5), 3);
    await log.close();
    await writeLogStart(dir, 700, false);
    const reopened = await openPartitionLog(dir, 't', 0, logOptions(small));
    assert.equal(reopened.logStartOffset(), 700);
    assert.equal(reopened.logEndOffset(), 700);
    assert.equal(reopened.unclean(), false);
    assert.deepEqual(await bases(), [700]);
    await reopened.close();
  });
});
