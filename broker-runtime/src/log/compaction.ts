import { OffsetIndex } from './offset-index.js';
import {
  LENGTH_FIELD_BYTES,
  decodeRecordAt,
  decompressEntryAt,
  encodeGap,
  entryCountAt,
  isCompressedAt,
  isGapAt,
  recordEpochAt,
  recordOffsetAt,
  recordSizeAt,
} from './record-codec.js';

/**
 * Log compaction (Kafka's LogCleaner, cleanup.policy=compact), as plain functions over segment
 * bytes; the partition log does the I/O and the crash-safe swap (FilePartitionLog.compact).
 *
 * Only closed segments wholly below the high-water mark are compacted. A first pass over them
 * finds, for every key, the record that stands for the key's state (by default the latest, as in
 * Kafka; a topic may bring its own rule, as __consumer_offsets does). The second pass rewrites each
 * segment keeping those records (and every record without a key) and replacing each run of removed
 * records by one gap entry (record-codec.ts): offsets keep their numbers, every offset of the segment
 * stays covered, and readers skip the gaps.
 */

/** Which record of a key stands for the key's state. The default: the latest. */
export interface CompactionRule<S = unknown> {
  /** What `replaces` needs to know of a record (kept in memory per key: keep it small). */
  summarize(payload: string): S;
  /** Whether `next`, written after `kept`, takes its place. */
  replaces(kept: S, next: S): boolean;
}

export const LATEST_WINS: CompactionRule<null> = { summarize: () => null, replaces: () => true };

/** A record whose payload is JSON null is a tombstone: once the key's latest, it is kept delete.retention.ms, then dropped. */
export const TOMBSTONE_PAYLOAD = 'null';

export interface Keeper {
  offset: number;
  summary: unknown;
  tombstone: boolean;
  timestamp: number;
}

/** The header with which the Kafka listener marks a key it stored as the base64 of its bytes (kafka/record-mapping.ts). */
export const BASE64_KEY_HEADER = 'yak.key';

/**
 * A record's key as compaction tells keys apart: the stored key string *and* how it is stored. A
 * Kafka key that is not UTF-8 is stored as its base64 text (marked BASE64_KEY_HEADER), so the
 * bytes ff fe and the UTF-8 key "//4=" are stored as the same string: compared as strings, a
 * client producing the key "//4=" made compaction delete the latest value of the binary key —
 * another key's record, which Kafka consumers read with other bytes. Tagged, they differ.
 */
export function compactionKey(key: string, headers: Readonly<Record<string, string>>): string {
  return headers[BASE64_KEY_HEADER] === 'base64' ? `b:${key}` : `t:${key}`;
}

/** One record as the planner sees it: where it is in the segment's bytes, decoded key and payload. */
interface PlainRecord {
  offset: number;
  epoch: number;
  timestamp: number;
  /** compactionKey of the stored key (null: no key). */
  key: string | null;
  payload: string;
  /** Its encoded bytes (a view into the segment, or into a decompressed batch). */
  bytes: Buffer;
}

/**
 * Every plain record of a segment's bytes, in order (compressed batches expanded), and the gaps
 * already in it. `visit` sees records and gaps (gaps as { offset, count, epoch, timestamp }).
 */
export function forEachEntry(segment: Buffer, visit: (e: { record: PlainRecord } | { gap: { offset: number; count: number; epoch: number; timestamp: number } }) => void): void {
  for (let pos = 0; pos < segment.length; ) {
    const size = recordSizeAt(segment, pos);
    if (size < 0) throw new Error(`segment bytes: ${size === -1 ? 'a partial entry' : 'an impossible length'} at byte ${pos}`);
    if (isGapAt(segment, pos)) {
      visit({ gap: { offset: recordOffsetAt(segment, pos), count: entryCountAt(segment, pos, size), epoch: recordEpochAt(segment, pos), timestamp: segment.readDoubleBE(pos + LENGTH_FIELD_BYTES + 16) } });
    } else if (isCompressedAt(segment, pos)) {
      const plain = decompressEntryAt(segment, pos, size);
      for (let p = 0; p < plain.length; ) {
        const s = recordSizeAt(plain, p);
        visit({ record: plainRecord(plain, p, s) });
        p += s;
      }
    } else {
      visit({ record: plainRecord(segment, pos, size) });
    }
    pos += size;
  }
}

function plainRecord(buf: Buffer, pos: number, size: number): PlainRecord {
  const r = decodeRecordAt(buf, pos, size);
  const key = r.key === null ? null : compactionKey(r.key, r.headers);
  return { offset: r.offset, epoch: r.epoch, timestamp: r.timestamp, key, payload: r.payload, bytes: buf.subarray(pos, pos + size) };
}

/** Pass 1, one segment at a time, oldest first: the record standing for each key so far. */
export function collectKeepers(segment: Buffer, keepers: Map<string, Keeper>, rule: CompactionRule): void {
  forEachEntry(segment, (e) => {
    if (!('record' in e) || e.record.key === null) return;
    const r = e.record;
    const summary = rule.summarize(r.payload);
    const kept = keepers.get(r.key!);
    if (kept && !rule.replaces(kept.summary, summary)) return;
    keepers.set(r.key!, { offset: r.offset, summary, tombstone: r.payload === TOMBSTONE_PAYLOAD, timestamp: r.timestamp });
  });
}

export interface CompactedSegment {
  /** The new contents: kept records as they were stored (or re-encoded plain, from a compressed batch) and gap entries. */
  chunks: Buffer[];
  bytes: number;
  /** Records removed now (not counting those already in gaps). */
  removed: number;
  /** Records kept. */
  kept: number;
}

/**
 * When a tombstone of a segment last modified at `segmentModifiedMs` counts as written, for
 * delete.retention.ms: its own timestamp, but never before its segment was last written to. A
 * record's timestamp is the producer's (a Kafka client's CreateTime: any value from 0 on, as
 * MirrorMaker and replays of old data send), so by itself it let a tombstone stamped in 1970 be
 * dropped at the first compaction after it was written — before consumers that had read the key
 * ever saw it deleted, which is what delete.retention.ms is for. The segment file's modification
 * time is the broker's clock, at or after the append of every record in it (Kafka measured the
 * same from the segment's last-modified time before KIP-534). Compaction keeps it on rewrites.
 */
export function tombstoneTime(recordTimestamp: number, segmentModifiedMs: number): number {
  return Math.max(recordTimestamp, segmentModifiedMs);
}

/**
 * Pass 2: the segment rewritten. A record is kept when it has no key, or it stands for its key
 * (`keepers`) and is not a tombstone older than `deleteRetentionMs` at `nowMs` (its age taken from
 * tombstoneTime, with the segment file's `segmentModifiedMs`). Removed runs (and gaps already
 * there) become one gap entry per run of one epoch. Undefined when nothing changes.
 */
export function compactSegment(segment: Buffer, keepers: ReadonlyMap<string, Keeper>, nowMs: number, deleteRetentionMs: number, segmentModifiedMs = Number.NEGATIVE_INFINITY): CompactedSegment | undefined {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let removed = 0;
  let kept = 0;
  let gapsBefore = 0;
  let changed = false;
  /** The run of removed offsets being gathered: [start, end), one epoch. */
  let run: { start: number; end: number; epoch: number; timestamp: number } | undefined;
  let runsWritten = 0;
  const push = (b: Buffer) => {
    chunks.push(b);
    bytes += b.length;
  };
  const closeRun = () => {
    if (!run) return;
    push(encodeGap(run.start, run.end - run.start, run.epoch, run.timestamp));
    runsWritten++;
    run = undefined;
  };
  const remove = (offset: number, count: number, epoch: number, timestamp: number) => {
    if (run && (run.epoch !== epoch || run.end !== offset)) closeRun();
    if (run) {
      run.end = offset + count;
      run.timestamp = Math.max(run.timestamp, timestamp);
    } else {
      run = { start: offset, end: offset + count, epoch, timestamp };
    }
  };
  forEachEntry(segment, (e) => {
    if ('gap' in e) {
      gapsBefore++;
      remove(e.gap.offset, e.gap.count, e.gap.epoch, e.gap.timestamp);
      return;
    }
    const r = e.record;
    const keeper = r.key === null ? undefined : keepers.get(r.key);
    const keep = r.key === null || (keeper !== undefined && keeper.offset === r.offset && !(keeper.tombstone && nowMs - tombstoneTime(keeper.timestamp, segmentModifiedMs) > deleteRetentionMs));
    if (!keep) {
      removed++;
      changed = true;
      remove(r.offset, 1, r.epoch, r.timestamp);
      return;
    }
    closeRun();
    kept++;
    push(r.bytes);
  });
  closeRun();
  // Adjacent gaps of one epoch were merged into fewer: a change worth writing too.
  if (runsWritten < gapsBefore) changed = true;
  if (!changed) return undefined;
  return { chunks, bytes, removed, kept };
}

/** The sparse index of the new contents of a segment based at `baseOffset`. */
export function indexFor(path: string, baseOffset: number, intervalBytes: number, chunks: readonly Buffer[]): OffsetIndex {
  const index = new OffsetIndex(path, baseOffset, intervalBytes);
  let position = 0;
  for (const chunk of chunks) {
    for (let p = 0; p < chunk.length; ) {
      const size = recordSizeAt(chunk, p);
      index.onRecord(recordOffsetAt(chunk, p), position + p, size);
      p += size;
    }
    position += chunk.length;
  }
  return index;
}

/** A segment's contents hold only gaps (every record in it was removed). */
export function onlyGaps(chunks: readonly Buffer[]): boolean {
  return chunks.every((c) => recordSizeAt(c, 0) === c.length && isGapAt(c, 0));
}
