import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './atomic-file.js';
import { readHighWatermark } from './high-watermark.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { segmentFileName } from './log-segment.js';
import { OffsetIndex } from './offset-index.js';
import { LENGTH_FIELD_BYTES, MAX_RECORD_LENGTH, MIN_RECORD_LENGTH, recordCrcMatches, recordOffsetAt, recordSizeAt } from './record-codec.js';
import type { EpochEntry } from './types.js';

const INDEX_NAME = /^(\d{20})\.index$/;

/** An index file found on disk: its segment's base offset and the offset of its last entry, if any. */
export interface IndexEvidence {
  baseOffset: number;
  /** Offset named by the file's last entry (a record that was written there); undefined when it has none or is unreadable. */
  lastEntryOffset: number | undefined;
  /** No `<base>.log` next to it: its segment is gone. */
  orphan: boolean;
}

/**
 * What a partition folder remembers about how far its log reached, read before recovery changes
 * anything (recovery rebuilds the index, trims the epoch cache and clamps the checkpoint).
 */
export interface EndEvidence {
  /** The high-water mark checkpoint as written, unclamped; 0 when missing or unreadable. */
  highWatermarkCheckpoint: number;
  /** The leader-epoch checkpoint's entries as written; empty when missing or unreadable. */
  epochEntries: readonly EpochEntry[];
  /** Index files of the last segment and of any segment after it whose `.log` is gone. */
  indexes: readonly IndexEvidence[];
}

/** Committed records the log once held and lost: it must be re-fetched up to `until` before this replica may lead. */
export interface LostRecords {
  /** The first offset that must come back from a leader (one past the highest offset any evidence names). */
  until: number;
  reasons: string[];
}

/**
 * Pass 3 of the open (after the integrity check and before recovery): does anything the folder
 * remembers say the log reached further than the records left (`logEndOffset`, one past the last
 * valid record)? Each kind of evidence alone is enough, because each is written only after the
 * records it speaks of:
 *
 *  1. the high-water mark checkpoint is past the log end: records below it were committed;
 *  2. the leader-epoch cache says an epoch wrote its first record at or past the log end;
 *  3. an offset index names a record at or past the log end;
 *  4. an index file of a segment at or past the log end has no data file: a segment is gone.
 *
 * Before this pass, a lost *last* segment (or its lost tail) only clamped the checkpoint: the
 * replica looked complete, led, and gave new records the missing offsets (issue 10). A torn tail
 * of a crash leaves none of these behind: the index and the cache are written after the records
 * (and the index of the active segment only at roll or close), the checkpoint only up to what was
 * written. A crash between cutting a divergent tail and trimming the cache does, and costs one
 * needless re-fetch.
 */
export function findLostRecords(evidence: EndEvidence, logEndOffset: number): LostRecords | undefined {
  const reasons: string[] = [];
  let until = logEndOffset;
  const highWatermark = evidence.highWatermarkCheckpoint;
  if (highWatermark > logEndOffset) {
    reasons.push(`the high-water mark checkpoint ${highWatermark} is past the log end ${logEndOffset}`);
    until = Math.max(until, highWatermark);
  }
  const epochs = evidence.epochEntries.filter((e) => e.startOffset >= logEndOffset);
  if (epochs.length > 0) {
    const last = epochs[epochs.length - 1]!;
    reasons.push(`the leader-epoch cache has epoch ${last.epoch} starting at offset ${last.startOffset}, at or past the log end ${logEndOffset}`);
    until = Math.max(until, last.startOffset + 1);
  }
  for (const index of evidence.indexes) {
    const file = segmentFileName(index.baseOffset, '.index');
    if (index.orphan && index.baseOffset >= logEndOffset) {
      reasons.push(`segment ${segmentFileName(index.baseOffset, '.log')} is missing (its ${file} is still there)`);
      until = Math.max(until, index.baseOffset + 1);
    }
    if (index.lastEntryOffset !== undefined && index.lastEntryOffset >= logEndOffset) {
      reasons.push(`${file} indexes offset ${index.lastEntryOffset}, at or past the log end ${logEndOffset}`);
      until = Math.max(until, index.lastEntryOffset + 1);
    }
  }
  return reasons.length > 0 ? { until, reasons } : undefined;
}

/** Checkpoints the open has read already (each file is read once per open: 10,000 partitions open at start). */
export interface KnownCheckpoints {
  /** As readHighWatermark with no clamp: 0 when missing or damaged (a damaged one is no evidence). */
  highWatermarkCheckpoint: number;
  /** As LeaderEpochCache.load. */
  epochCache: LeaderEpochCache | string;
}

/** Read the evidence of the folder `dir`, whose segment data files start at `bases` (sorted). Read-only. */
export async function readEndEvidence(dir: string, names: readonly string[], bases: readonly number[], known?: KnownCheckpoints, logEnd = 0): Promise<EndEvidence> {
  // 0 when missing or unreadable, which is past no log end.
  const highWatermarkCheckpoint = known?.highWatermarkCheckpoint ?? (await readHighWatermark(dir, () => {}));
  const cache = known?.epochCache ?? (await LeaderEpochCache.load(dir));
  const lastBase = bases[bases.length - 1] ?? -1;
  const logs = new Set(bases);
  const indexes: IndexEvidence[] = [];
  for (const name of names) {
    const m = INDEX_NAME.exec(name);
    if (!m) continue;
    const baseOffset = Number(m[1]);
    if (!Number.isSafeInteger(baseOffset) || baseOffset < lastBase) continue;
    const orphan = !logs.has(baseOffset);
    const data = orphan ? null : join(dir, segmentFileName(baseOffset, '.log'));
    indexes.push({ baseOffset, lastEntryOffset: await lastIndexedOffset(join(dir, name), baseOffset, data, logEnd), orphan });
  }
  indexes.sort((a, b) => a.baseOffset - b.baseOffset);
  return { highWatermarkCheckpoint, epochEntries: typeof cache === 'string' ? [] : cache.entries(), indexes };
}

/**
 * Remove what pass 3 used once the unclean mark records it, so a restart does not report it
 * again: index files without a segment (a later roll to that base would reuse the name).
 */
export async function removeOrphanIndexes(dir: string, evidence: EndEvidence): Promise<void> {
  const orphans = evidence.indexes.filter((i) => i.orphan);
  for (const o of orphans) await unlink(join(dir, segmentFileName(o.baseOffset, '.index'))).catch(() => undefined);
  if (orphans.length > 0) await fsyncDir(dir);
}

async function lastIndexedOffset(path: string, baseOffset: number, dataPath: string | null, logEnd: number): Promise<number | undefined> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch {
    return undefined;
  }
  // The interval does not matter for reading entries back.
  const index = OffsetIndex.fromBuffer(path, baseOffset, 1, buffer);
  if (typeof index === 'string' || index.entries === 0) return undefined;
  const last = index.entry(index.entries - 1);
  // The entry points at a whole record (its checksum good) of another offset: the index is damaged,
  // not the log, and says nothing of records lost. Taken as evidence, a flipped bit in its offset
  // field (offset 1,509,949,498 in a 60-record log) kept the partition unclean for good: no leader
  // ever reaches such an offset. An entry pointing past the data, or at bytes that are no record,
  // still counts: that is what a lost tail leaves.
  // Looked at only where the entry would be evidence (past the log end): one more file open per partition at every start otherwise.
  if (dataPath !== null && last.offset >= logEnd && (await otherRecordAt(dataPath, last.position, last.offset))) return undefined;
  return last.offset;
}

/** Whether a whole record with a good checksum starts at `position` of the segment file `path`, with an offset other than `offset`. */
async function otherRecordAt(path: string, position: number, offset: number): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(LENGTH_FIELD_BYTES);
    if ((await handle.read(head, 0, LENGTH_FIELD_BYTES, position)).bytesRead < LENGTH_FIELD_BYTES) return false;
    const length = head.readUInt32BE(0);
    if (length < MIN_RECORD_LENGTH || length > MAX_RECORD_LENGTH) return false;
    const record = Buffer.alloc(LENGTH_FIELD_BYTES + length);
    if ((await handle.read(record, 0, record.length, position)).bytesRead < record.length) return false;
    return recordSizeAt(record, 0) === record.length && recordCrcMatches(record, 0, record.length) && recordOffsetAt(record, 0) !== offset;
  } finally {
    await handle.close();
  }
}
