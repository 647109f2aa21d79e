import { parseMarker, PRODUCER_MARKER, RETAINED_BATCHES } from '../kafka/idempotence/producer-marker.js';
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
 *
 * Idempotent producers' markers are kept whatever their key (ProducerMarkers): a new leader
 * rebuilds the producers' last sequences from them, as Kafka's LogCleaner keeps each producer's
 * last batch.
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
  /** The producer id of the idempotent batch it is the first record of (its PRODUCER_MARKER header), else null. */
  producer: number | null;
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
  const producer = parseMarker(r.headers[PRODUCER_MARKER])?.producerId ?? null;
  return { offset: r.offset, epoch: r.epoch, timestamp: r.timestamp, key, payload: r.payload, producer, bytes: buf.subarray(pos, pos + size) };
}

/**
 * The records carrying each idempotent producer's last RETAINED_BATCHES markers: compaction keeps
 * them even when a later record of the same key supersedes them. A leader's producer table is
 * rebuilt from the markers in its log (kafka/idempotence/partition-producers.ts) and depends only
 * on each producer's last RETAINED_BATCHES of them (epoch, last sequence, and the batches a retry
 * is answered from, with their offsets: the marker's own offset and its count). Removing a marker
 * because its key was written again made a new leader forget a producer's last sequence, and the
 * producer's retry of its last batch after the failover was appended a second time.
 *
 * Counted over the segments being compacted only: markers of the same producer in later segments
 * could make some of these unnecessary, but keeping them is always safe, and the next compaction
 * that covers the later ones drops them. At most RETAINED_BATCHES records per producer stay.
 */
export class ProducerMarkers {
  /** Producer id → its newest markers so far, oldest first: the record's offset and compaction key. */
  private readonly newest = new Map<number, { offset: number; key: string | null }[]>();
  private settled: { kept: Set<number>; pinned: Set<string> } | null = null;

  /** Pass 1 saw the marker of `producer` at `offset` (offsets come in increasing order), on a record of compaction key `key`. */
  saw(producer: number, offset: number, key: string | null): void {
    this.settled = null;
    let markers = this.newest.get(producer);
    if (!markers) this.newest.set(producer, (markers = []));
    markers.push({ offset, key });
    if (markers.length > RETAINED_BATCHES) markers.shift();
  }

  /** Whether the record at `offset` carries one of its producer's newest markers. */
  keeps(offset: number, keepers: ReadonlyMap<string, Keeper>): boolean {
    return this.settle(keepers).kept.has(offset);
  }

  /**
   * Whether `key`'s tombstone must stay past delete.retention.ms: an older value of the key is kept
   * for its marker, and without the tombstone after it a reader folding the log would see that
   * value again (the key brought back to life). It may go once the marker does.
   */
  pins(key: string, keepers: ReadonlyMap<string, Keeper>): boolean {
    return this.settle(keepers).pinned.has(key);
  }

  private settle(keepers: ReadonlyMap<string, Keeper>): { kept: Set<number>; pinned: Set<string> } {
    if (!this.settled) {
      const kept = new Set<number>();
      const pinned = new Set<string>();
      for (const markers of this.newest.values()) {
        for (const m of markers) {
          kept.add(m.offset);
          if (m.key !== null && keepers.get(m.key)?.offset !== m.offset) pinned.add(m.key);
        }
      }
      this.settled = { kept, pinned };
    }
    return this.settled;
  }
}

/** Pass 1, one segment at a time, oldest first: the record standing for each key so far, and the producers' newest markers. */
export function collectKeepers(segment: Buffer, keepers: Map<string, Keeper>, rule: CompactionRule, producers: ProducerMarkers): void {
  forEachEntry(segment, (e) => {
    if (!('record' in e)) return;
    if (e.record.producer !== null) producers.saw(e.record.producer, e.record.offset, e.record.key);
    if (e.record.key === null) return;
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
 * Pass 2: the segment rewritten. A record is kept when it has no key, or it carries one of its
 * producer's newest markers (`producers`), or it stands for its key (`keepers`) and is not a
 * tombstone older than `deleteRetentionMs` at `nowMs` (its age taken from tombstoneTime, with the
 * segment file's `segmentModifiedMs`) — unless an older value of its key is kept for a marker. Removed runs (and gaps already there) become one gap entry
 * per run of one epoch. Undefined when nothing changes.
 */
export function compactSegment(segment: Buffer, keepers: ReadonlyMap<string, Keeper>, producers: ProducerMarkers, nowMs: number, deleteRetentionMs: number, segmentModifiedMs = Number.NEGATIVE_INFINITY): CompactedSegment | undefined {
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
    const stands = keeper !== undefined && keeper.offset === r.offset;
    const expired = stands && keeper.tombstone && nowMs - tombstoneTime(keeper.timestamp, segmentModifiedMs) > deleteRetentionMs && !producers.pins(r.key!, keepers);
    const keep = r.key === null || (r.producer !== null && producers.keeps(r.offset, keepers)) || (stands && !expired);
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
