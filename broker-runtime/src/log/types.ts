import type { SupportedCodec } from './compression/codecs.js';
import type { FileHandleCache } from './file-handle-cache.js';
import type { StorageError } from './storage-error.js';
import type { RetentionDecision, RetentionPolicy } from './retention.js';
import type { TopicConfig } from './topic-config.js';
import type { CompactionRule } from './compaction.js';
import type { UncleanState } from './unclean-marker.js';

/**
 * The storage contract. Everything above log/ (replication, HTTP) talks to a partition's log only
 * through these interfaces; everything below is files.
 *
 * On-disk record layout (big-endian), one after another in `<base-offset>.log` segment files:
 *
 *   u32  length       bytes that follow this field (crc .. payload)
 *   u32  crc          CRC-32 (zlib.crc32) of every byte after this field
 *   u64  offset       absolute offset in the partition
 *   u32  epoch        leader epoch that first appended the record
 *   f64  timestamp    ms since the Unix epoch (producer-supplied or broker time)
 *   i32  keyLength    -1 for a null key
 *   ...  key          UTF-8
 *   u32  headersLength
 *   ...  headers      UTF-8 JSON object of string -> string ("" when there are none: length 0)
 *   ...  payload      UTF-8 JSON text, the rest of the record
 *
 * A compressed batch is one entry with the same header, keyLength -2, and the plain records of
 * offsets [offset, offset + count) compressed inside (record-codec.ts, compression/codecs.ts).
 *
 * Encoded entries are what replication ships: a follower appends the leader's bytes unchanged
 * after checking each CRC, that offsets continue its log and that batches decompress.
 */

/** What a producer hands the broker (payload is JSON text, already validated). */
export interface RecordInput {
  key: string | null;
  payload: string;
  headers: Record<string, string>;
  timestamp: number;
  /**
   * The payload's UTF-8 bytes, exactly, when the caller holds them already (a Kafka value stored as
   * it is): the encoder copies them instead of measuring and encoding the string again.
   */
  payloadBytes?: Buffer;
}

export interface StoredRecord extends RecordInput {
  offset: number;
  epoch: number;
}

/** One entry of the leader-epoch cache: `epoch` began writing at `startOffset`. */
export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface LogOptions {
  /** Roll to a new segment once the active one reaches this size. */
  segmentBytes: number;
  /** Add an offset-index entry every this many bytes of records. */
  indexIntervalBytes: number;
  /** always: fsync before append() resolves; interval: LogManager fsyncs dirty logs every fsyncIntervalMs; never: leave it to the OS. */
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  /**
   * Called with a human-readable line for recovery events (truncated tail, rebuilt index); `warn`
   * for damage found and worked around (a checkpoint whose checksum fails).
   */
  logger?: (line: string, level?: 'info' | 'warn') => void;
  /** Told of every storage fault (ENOSPC, EIO, ...) a change meets, and of every change that succeeds. */
  storage?: StorageObserver;
  /** The open segment files of the broker, bounded (file-handle-cache.ts); a log opened alone gets an unbounded one. */
  files?: FileHandleCache;
}

/** Watches the outcome of a log's writes (log/storage-health.ts keeps the condition). */
export interface StorageObserver {
  failed(err: StorageError): void;
  succeeded(): void;
}

export interface RawBatch {
  /** Stored entries, exactly as stored. */
  bytes: Buffer;
  /** Offset of the first entry in `bytes` (the offset asked for, unless it lies inside a batch), and one past the last. */
  baseOffset: number;
  nextOffset: number;
  count: number;
}

/** What the loader (log-loader.ts) decided about a partition folder when it opened it. */
export type LoadState =
  /** The folder did not exist and was created: an empty log. */
  | 'created'
  /** Opened as it was found: nothing cut, nothing rebuilt, no evidence of loss. */
  | 'clean'
  /** A torn tail was cut or an index rebuilt, with no evidence that anything committed was lost. */
  | 'recovered'
  /** Committed records are damaged or lost (or were, and are not re-fetched yet): the replica must not lead until it re-fetched them. */
  | 'unclean';

export interface RecoveryReport {
  /** Bytes cut from the tail of the last segment because they were torn or failed the CRC. */
  truncatedBytes: number;
  /** Index files rebuilt because they were missing or disagreed with their segment. */
  rebuiltIndexes: number;
  state: LoadState;
}

export interface PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  /** What open() found and repaired. */
  readonly recovery: RecoveryReport;

  /** One past the last record's offset (0 for an empty log). */
  logEndOffset(): number;
  /**
   * The first offset still held: records below it were deleted on purpose (retention, or a
   * follower starting at the leader's log start). Never decreases by retention; <= highWatermark().
   */
  logStartOffset(): number;
  /** Committed offset boundary: records below it are committed. Never decreases, never exceeds logEndOffset(). */
  highWatermark(): number;
  /** Raise the high-water mark (clamped to logEndOffset(); lower values are ignored). Persisted lazily. */
  setHighWatermark(offset: number): void;

  /**
   * Leader path: assign offsets from logEndOffset(), encode with `epoch`, append; resolves once
   * written (and fsynced under 'always'). With a `compression` codec other than 'none' the records
   * are stored as one compressed batch (record-codec.ts).
   */
  append(records: RecordInput[], epoch: number, compression?: SupportedCodec): Promise<{ baseOffset: number; lastOffset: number }>;
  /**
   * Follower path: append the leader's stored entries. Throws (and changes nothing) if a CRC fails,
   * a compressed batch does not hold what it says, or the first offset is not logEndOffset().
   */
  appendRaw(bytes: Buffer): Promise<{ count: number; nextOffset: number }>;

  /**
   * Decoded records with offset in [from, min(upTo, logEndOffset())), at most maxRecords and about
   * maxBytes (always at least one if any). Compressed batches come decompressed, cut to the range.
   */
  read(from: number, upTo: number, maxRecords: number, maxBytes: number): Promise<StoredRecord[]>;
  /** The same records as read(), still encoded as stored (whole records, one buffer per segment read): for answers that copy them out as bytes. */
  readEncoded(from: number, upTo: number, maxRecords: number, maxBytes: number): Promise<Buffer[]>;
  /**
   * Stored entries (plain records and compressed batches, as on disk) from the one holding `from`,
   * at most about maxBytes (at least one entry if any), never past logEndOffset(): what replication ships.
   */
  readRaw(from: number, maxBytes: number): Promise<RawBatch>;

  /** Drop every record with offset >= `offset` (segments, index, epoch cache); the high-water mark is clamped too. */
  truncateTo(offset: number): Promise<void>;

  /** Leader: delete the oldest whole segments `policy` lets go (log/retention.ts); checkpoints the new log start first. */
  applyRetention(policy: RetentionPolicy, nowMs: number): Promise<RetentionDecision>;
  /**
   * Any replica (each compacts its own copy, as in Kafka): rewrite the closed segments wholly below
   * the high-water mark keeping, per key, the record `rule` says stands for it (log/compaction.ts).
   * Offsets keep their numbers; removed runs become gap entries that readers skip. Segments left
   * holding only gaps at the front are deleted (the log start moves past them).
   */
  compact(rule: CompactionRule, options: CompactionOptions): Promise<CompactionReport>;
  /**
   * Follower: the leader's log start is `offset`: raise ours to it (never past our high-water mark)
   * and delete the whole segments below it, never the active one.
   */
  advanceLogStart(offset: number): Promise<void>;
  /**
   * Follower whose log ends at or below the leader's log start (Kafka's truncateFullyAndStartAt):
   * drop every segment and start an empty log at `offset`.
   */
  restartAt(offset: number): Promise<void>;

  /** The leader-epoch cache, oldest first. */
  epochs(): EpochEntry[];
  /** Epoch of the last record, or -1 for an empty log. */
  lastEpoch(): number;

  /**
   * True while committed data found damaged at open (not a torn tail) has not been re-fetched yet:
   * this replica may be missing committed records and must not become leader. Lifted by itself
   * once the log has grown past the damage again (integrity.ts).
   */
  unclean(): boolean;
  /** The unclean mark's details while unclean() (what was cut, up to where it must be re-fetched). */
  uncleanState?(): UncleanState | undefined;
  /**
   * Follower: a leader's log start is `offset`. A replica that lost records at its front (its first
   * segment gone, not by retention) stays unclean until a leader's log start has passed them.
   */
  leaderLogStartSeen?(offset: number): Promise<void>;

  /** fsync whatever is written but not yet durable; also checkpoints the high-water mark. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface CompactionOptions {
  nowMs: number;
  /** A tombstone (payload `null`) that stands for its key is dropped once older than this (Kafka's delete.retention.ms). */
  deleteRetentionMs: number;
  /** Run even if no segment closed since the last run. */
  force?: boolean;
  /** Tests: called after each step of the file swap (throw to stop there, as a crash would). */
  step?: (name: 'temp-written' | 'index-removed' | 'log-renamed' | 'index-renamed' | 'dir-synced') => void | Promise<void>;
}

export interface CompactionReport {
  /** Segments rewritten. */
  segments: number;
  /** Records removed (superseded, or expired tombstones). */
  removed: number;
  bytesBefore: number;
  bytesAfter: number;
  logStartOffset: number;
}

export interface TopicInfo {
  name: string;
  partitions: number;
  /** Per-topic overrides (retention.ms, retention.bytes); absent or {} = the broker's defaults. */
  config?: TopicConfig;
}

/** All partitions of all topics in one data folder, plus the topic metadata file. */
export interface LogManager {
  readonly dataDir: string;
  topics(): TopicInfo[];
  topic(name: string): TopicInfo | undefined;
  /** Create the topic's partition folders and record it in the metadata file (fsynced). Idempotent for the same count; throws on a different count. */
  createTopic(name: string, partitions: number, config?: TopicConfig): Promise<void>;
  /** Replace a topic's config overrides (fsynced); throws UNKNOWN_TOPIC for an unknown topic. */
  setTopicConfig(name: string, config: TopicConfig): Promise<void>;
  /** A digest of every topic's name, partitions and config, kept up to date per change (O(1)): equal digests, equal topics. */
  topicsVersion(): string;
  /** How many topic changes (creations, config changes) this manager has made since it opened. */
  topicsSeq(): number;
  /** The topics created or changed after the first `seq` changes (see topicsSeq). */
  topicsChangedSince(seq: number): TopicInfo[];
  /** The open log, or undefined for an unknown topic/partition. */
  partition(topic: string, partition: number): PartitionLog | undefined;
  all(): PartitionLog[];
  close(): Promise<void>;
}
