import { mkdir, open as openFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_SUFFIX, fsyncDir } from './atomic-file.js';
import { writeHighWatermark } from './high-watermark.js';
import { FileHandleCache } from './file-handle-cache.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import { LogSegment } from './log-segment.js';
import { collectKeepers, compactSegment, indexFor, onlyGaps, ProducerMarkers, type CompactionRule, type Keeper } from './compaction.js';
import { writeLogStart } from './log-start.js';
import { segmentsToDelete, type RetentionDecision, type RetentionPolicy, type SegmentSummary } from './retention.js';
import { largestTimestamp } from './segment-timestamps.js';
import { decodeRecords, encodeCompressedBatch, encodeGap, encodeRecords, entryCountAt, expandEntries, isGapAt, recordEpochAt, recordSizeAt, validateBatch } from './record-codec.js';
import { codecByName, type SupportedCodec } from './compression/codecs.js';
import { classifyStorageError, isStorageError } from './storage-error.js';
import type { UncleanMarker, UncleanState } from './unclean-marker.js';
import type { CompactionOptions, CompactionReport, EpochEntry, LogOptions, PartitionLog, RawBatch, RecordInput, RecoveryReport, StoredRecord } from './types.js';
import { WriteQueue, type PendingAppend } from './write-queue.js';

/** Appends queued behind a write are written together up to about this many bytes (or segmentBytes, if smaller). */
const MAX_GROUP_BYTES = 8 * 1024 * 1024;
const MAX_SEGMENT_BYTES = 2 ** 31 - 1;

interface AppendRequest {
  records: RecordInput[];
  epoch: number;
  /** Stored as one compressed batch with this codec ('none' or absent: plain records). */
  compression: SupportedCodec | undefined;
}
type AppendResult = { baseOffset: number; lastOffset: number };

/**
 * One partition's log (Kafka's UnifiedLog): segments sorted by base offset, the last one active.
 * Every change (append, appendRaw, truncateTo, flush, close) runs in one queue, so writers never
 * interleave; appends that queue up behind a write are written together with one writev (and one
 * fsync under 'always'). Reads run alongside and see only offsets below the in-memory log end,
 * which moves only after a write completed.
 */
export class FilePartitionLog implements PartitionLog {
  /** One past the last record written (logEndOffset()). */
  private logEnd: number;
  /** The high-water mark (highWatermark()): records below it are committed. Always <= logEnd. */
  private committed: number;
  private checkpointedHighWatermark: number;
  /** The epoch cache changed since its checkpoint was written (writeRecords defers it). */
  private epochCheckpointDue = false;
  /** Bumped by truncations, so a read that raced one can retry. */
  private generation = 0;
  /** Segments written to since their last fsync. */
  private readonly unflushed = new Set<LogSegment>();
  private readonly queue: WriteQueue<AppendRequest, AppendResult>;
  private closed = false;
  private closing: Promise<void> | undefined;
  private cleanClose = false;
  /** Set when a failed write could not be undone: the log refuses further changes. */
  private failure: Error | undefined;
  /** The rest of a truncation that failed halfway (a storage fault): finished before the next change. */
  private unfinishedTruncation: { offset: number; dropped: LogSegment[] } | undefined;
  private readonly log: (line: string) => void;
  /** Average encoded record size lately, to size read chunks for a maxRecords. */
  private recordBytesEstimate = 1024;
  private logStart: number;
  /** Largest record timestamp of closed segments, computed once each (time retention). */
  private readonly largestTimestamps = new Map<LogSegment, number>();
  private readonly files: FileHandleCache;
  /** End offset of the closed segments the last compaction looked at (it runs again only once more closed). */
  private compactedUpTo = -1;
  private compacting = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    readonly recovery: RecoveryReport,
    private readonly options: LogOptions,
    private segments: LogSegment[],
    private readonly cache: LeaderEpochCache,
    logEndOffset: number,
    highWatermark: number,
    private readonly uncleanMark?: UncleanMarker,
    logStartOffset = 0,
    /**
     * Whether the folder's entries (its segment files) are known durable. A folder the loader just
     * created is not: an empty partition lost to a power cut is made again identically, so its
     * folder is fsynced only once it holds records — with the first fsync of them (writeRecords
     * under 'always', else the first flush), not when the topic is created.
     */
    private folderSynced = true,
  ) {
    this.files = options.files ?? new FileHandleCache(Number.MAX_SAFE_INTEGER);
    this.logStart = logStartOffset;
    // The loader clamps a checkpoint past the log end (and marks the partition unclean for it), so
    // a violation here is a bug in the caller, not bad disk content.
    assertHighWatermarkWithinLog(highWatermark, logEndOffset, `${topic}-${partition} opened`);
    this.logEnd = logEndOffset;
    this.committed = highWatermark;
    this.checkpointedHighWatermark = highWatermark;
    const logger = options.logger;
    this.log = (line) => logger?.(`[log ${topic}-${partition}] ${line}`);
    const maxGroupBytes = Math.min(options.segmentBytes, MAX_GROUP_BYTES);
    this.queue = new WriteQueue<AppendRequest, AppendResult>({
      writeGroup: (group) => this.appendGroup(group),
      canJoin: (first, next, groupBytes) => next.epoch === first.epoch && groupBytes < maxGroupBytes,
      weight: (a) => estimateBytes(a.records),
      refusal: () => (this.closed ? new Error(`partition log ${topic}-${partition} is closed`) : this.failure),
    });
  }

  logEndOffset(): number {
    return this.logEnd;
  }

  highWatermark(): number {
    return this.committed;
  }

  logStartOffset(): number {
    return this.logStart;
  }

  setHighWatermark(offset: number): void {
    // A follower is told the leader's high-water mark, which may be past its own log end: clamped.
    const clamped = Math.min(offset, this.logEnd);
    if (clamped > this.committed) this.committed = clamped;
    assertHighWatermarkWithinLog(this.committed, this.logEnd, `${this.topic}-${this.partition} high-water mark set`);
  }

  epochs(): EpochEntry[] {
    return this.cache.entries();
  }

  lastEpoch(): number {
    return this.cache.latestEpoch();
  }

  unclean(): boolean {
    return this.uncleanMark?.isSet() ?? false;
  }

  /** The unclean mark's details while it is set (what was cut, what must be re-fetched), else undefined. */
  uncleanState(): UncleanState | undefined {
    return this.uncleanMark?.current;
  }

  /** Whether flush() has anything to do (unsynced writes, a checkpoint due). */
  needsFlush(): boolean {
    return this.unflushed.size > 0 || this.checkpointsDue();
  }

  /** Whether the high-water mark moved, or the epoch cache changed, since their last checkpoint. */
  checkpointsDue(): boolean {
    return this.epochCheckpointDue || this.committed !== this.checkpointedHighWatermark;
  }

  /** Write the high-water mark checkpoint at the next flush even if the mark has not moved (the loader found the file damaged). */
  highWatermarkCheckpointDue(): void {
    this.checkpointedHighWatermark = -1;
  }

  append(records: RecordInput[], epoch: number, compression?: SupportedCodec): Promise<{ baseOffset: number; lastOffset: number }> {
    return this.queue.append({ records, epoch, compression });
  }

  appendRaw(bytes: Buffer): Promise<{ count: number; nextOffset: number }> {
    return this.queue.task(() => this.reportingStorage('append', async () => {
      await this.finishTruncation();
      const batch = validateBatch(bytes, this.logEnd);
      if (batch.count === 0) return { count: 0, nextOffset: this.logEnd };
      const latest = this.cache.latestEpoch();
      const firstEpoch = batch.epochs[0]!.epoch;
      if (firstEpoch < latest) throw new Error(`batch from offset ${this.logEnd} has epoch ${firstEpoch}, older than the log's last epoch ${latest}`);
      await this.writeRecords([bytes], bytes.length, this.logEnd, batch.count, batch.epochs.filter((e) => e.epoch > latest));
      if (this.uncleanMark?.isSet()) await this.liftUncleanMark();
      return { count: batch.count, nextOffset: this.logEnd };
    }, true));
  }

  async read(from: number, upTo: number, maxRecords: number, maxBytes: number): Promise<StoredRecord[]> {
    checkOffset(from, 'from');
    return this.readConsistently(async () => {
      const out: StoredRecord[] = [];
      for (const chunk of await this.readOnce(from, upTo, maxRecords, maxBytes)) for (const r of decodeRecords(chunk)) out.push(r);
      return out;
    });
  }

  async readEncoded(from: number, upTo: number, maxRecords: number, maxBytes: number): Promise<Buffer[]> {
    checkOffset(from, 'from');
    return this.readConsistently(() => this.readOnce(from, upTo, maxRecords, maxBytes));
  }

  async readRaw(from: number, maxBytes: number): Promise<RawBatch> {
    checkOffset(from, 'from');
    return this.readConsistently(async () => {
      const logEnd = this.logEnd;
      const segment = this.segmentFor(from);
      if (from >= logEnd || !segment) return { bytes: Buffer.alloc(0), baseOffset: from, nextOffset: from, count: 0 };
      segment.retain();
      try {
        // Whole entries: a follower's log ends on an entry boundary, so `from` starts one (when it
        // does not, the follower refuses the bytes: their first offset is not its log end).
        const r = await segment.readRecords(from, logEnd, maxBytes, true);
        if (r.entries === 0) return { bytes: Buffer.alloc(0), baseOffset: from, nextOffset: from, count: 0 };
        if (r.firstOffset < from && isGapAt(r.bytes, 0)) {
          // A gap this replica's compaction made across the follower's log end (replicas compact
          // independently): ship the rest of it, from `from`, as a gap of its own.
          const size = recordSizeAt(r.bytes, 0);
          const gapEnd = r.firstOffset + entryCountAt(r.bytes, 0, size);
          const rest = encodeGap(from, gapEnd - from, recordEpochAt(r.bytes, 0), r.bytes.readDoubleBE(20));
          return { bytes: Buffer.concat([rest, r.bytes.subarray(size)]), baseOffset: from, nextOffset: r.nextOffset, count: r.nextOffset - from };
        }
        return { bytes: r.bytes, baseOffset: r.firstOffset, nextOffset: r.nextOffset, count: r.nextOffset - r.firstOffset };
      } finally {
        segment.release();
      }
    });
  }

  truncateTo(offset: number): Promise<void> {
    checkOffset(offset, 'offset');
    return this.queue.task(() => this.reportingStorage('truncate', async () => {
      await this.finishTruncation();
      if (offset >= this.logEnd) return;
      if (offset < this.logStart) throw new RangeError(`cannot truncate to ${offset}, below the log start offset ${this.logStart}`);
      offset = await this.entryBoundary(offset);
      const before = this.logEnd;
      // Shrink what readers may see first; segments are cut after.
      this.generation++;
      this.logEnd = offset;
      if (this.committed > offset) this.committed = offset;
      assertHighWatermarkWithinLog(this.committed, this.logEnd, `${this.topic}-${this.partition} truncated`);
      const dropped = this.segments.filter((s) => s.baseOffset > offset);
      this.segments = this.segments.filter((s) => s.baseOffset <= offset);
      try {
        this.unfinishedTruncation = { offset, dropped };
        await this.finishTruncation();
      } finally {
        this.generation++;
      }
      this.log(`truncated from offset ${before} to ${offset}${dropped.length ? `, deleting ${dropped.length} segment(s)` : ''}`);
    }));
  }

  /**
   * Cut the files down to a truncation already made in memory. Every step can run again, so a
   * storage fault halfway leaves the rest for the next change; any other failure is fatal.
   */
  private async finishTruncation(): Promise<void> {
    const pending = this.unfinishedTruncation;
    if (!pending) return;
    const { offset, dropped } = pending;
    try {
      while (dropped.length > 0) {
        const s = dropped[0]!;
        this.unflushed.delete(s);
        await s.delete();
        dropped.shift();
      }
      const active = this.active();
      this.largestTimestamps.delete(active); // retention's view of the segment's newest record
      await active.truncateTo(offset);
      if (this.options.fsync === 'always') await active.flush();
      else this.unflushed.add(active);
      this.cache.truncateFromEnd(offset);
      await this.writeEpochCheckpoint(true);
      this.unfinishedTruncation = undefined;
    } catch (err) {
      if (!isStorageError(classifyStorageError(err, 'truncate'))) this.failure = new Error(`truncation to offset ${offset} failed halfway: ${errorText(err)}`);
      throw err;
    }
  }

  /**
   * Run a change and tell the storage observer how it went: a storage fault (classified here,
   * once), or for writes of records (`writes`), a success, which ends a fault it knew of. Other
   * changes do not count as successes: a truncation or an empty checkpoint can succeed on a full disk.
   */
  private async reportingStorage<T>(what: string, run: () => Promise<T>, writes = false): Promise<T> {
    let result: T;
    try {
      result = await run();
    } catch (err) {
      const storage = classifyStorageError(err, `${this.topic}-${this.partition}: ${what}`);
      if (storage) this.options.storage?.failed(storage);
      throw storage ?? err;
    }
    if (writes) this.options.storage?.succeeded();
    return result;
  }

  async applyRetention(policy: RetentionPolicy, nowMs: number): Promise<RetentionDecision> {
    if (policy.retentionMs === null && policy.retentionBytes === null) return { deleteCount: 0, logStartOffset: this.logStart, reasons: [] };
    // Summaries outside the write queue (a time scan reads whole segments); the deletion checks
    // in the queue that the front of the log is still what was decided on.
    const segments = [...this.segments];
    const highWatermark = this.committed;
    const summaries: SegmentSummary[] = [];
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      const endOffset = i + 1 < segments.length ? segments[i + 1]!.baseOffset : this.logEnd;
      let largest = Number.NEGATIVE_INFINITY;
      if (policy.retentionMs !== null && i + 1 < segments.length && endOffset <= highWatermark) {
        largest = this.largestTimestamps.get(s) ?? (await largestTimestamp(s));
        this.largestTimestamps.set(s, largest);
      }
      summaries.push({ baseOffset: s.baseOffset, endOffset, bytes: s.size, largestTimestamp: largest });
    }
    const decision = segmentsToDelete(summaries, highWatermark, policy, nowMs);
    if (decision.deleteCount === 0) return decision;
    return this.queue.task(async () => {
      const doomed = segments.slice(0, decision.deleteCount);
      if (doomed.some((s, i) => this.segments[i] !== s) || this.segments.length <= doomed.length) return { ...decision, deleteCount: 0, logStartOffset: this.logStart };
      await this.deleteFront(doomed.length, decision.logStartOffset);
      this.log(`retention: deleted ${doomed.length} segment(s) below offset ${decision.logStartOffset} (${decision.reasons.join('; ')}); the log starts at ${decision.logStartOffset}`);
      return decision;
    });
  }

  async compact(rule: CompactionRule, options: CompactionOptions): Promise<CompactionReport> {
    const none: CompactionReport = { segments: 0, removed: 0, bytesBefore: 0, bytesAfter: 0, logStartOffset: this.logStart };
    // One pass at a time: two would write the same temp files.
    if (this.compacting) return none;
    this.compacting = true;
    try {
      return await this.compactOnce(rule, options, none);
    } finally {
      this.compacting = false;
    }
  }

  private async compactOnce(rule: CompactionRule, options: CompactionOptions, none: CompactionReport): Promise<CompactionReport> {
    // Closed segments wholly below the high-water mark, as they are now (the swap checks they still are).
    const all = [...this.segments];
    const highWatermark = this.committed;
    const candidates: { segment: LogSegment; endOffset: number }[] = [];
    for (let i = 0; i + 1 < all.length; i++) {
      const endOffset = all[i + 1]!.baseOffset;
      if (endOffset > highWatermark) break;
      candidates.push({ segment: all[i]!, endOffset });
    }
    const last = candidates[candidates.length - 1];
    // Nothing closed since the last pass: the same input gives the same output.
    if (!last || (last.endOffset === this.compactedUpTo && options.force !== true)) return none;
    const step = options.step ?? (() => undefined);

    // Pass 1: the record standing for each key, and each idempotent producer's newest markers, over every candidate (one segment in memory at a time).
    const keepers = new Map<string, Keeper>();
    const producers = new ProducerMarkers();
    for (const c of candidates) collectKeepers(await this.readWhole(c.segment), keepers, rule, producers);

    // Pass 2: each segment's new contents, written beside it as temp files (removed at open if we stop here).
    const durable = this.options.fsync !== 'never';
    const plans: { segment: LogSegment; endOffset: number; logTemp: string; indexTemp: string; gapsOnly: boolean; bytes: number }[] = [];
    let removed = 0;
    let bytesBefore = 0;
    let bytesAfter = 0;
    try {
      for (const c of candidates) {
        const modifiedMs = await c.segment.lastModifiedMs();
        const out = compactSegment(await this.readWhole(c.segment), keepers, producers, options.nowMs, options.deleteRetentionMs, modifiedMs);
        if (!out) continue;
        const logTemp = c.segment.logPath + COMPACT_SUFFIX + TEMP_SUFFIX;
        const indexTemp = c.segment.index.path + COMPACT_SUFFIX + TEMP_SUFFIX;
        plans.push({ segment: c.segment, endOffset: c.endOffset, logTemp, indexTemp, gapsOnly: onlyGaps(out.chunks), bytes: out.bytes });
        const handle = await openFile(logTemp, 'w');
        try {
          await handle.writev(out.chunks);
          // The rewritten file keeps the old one's modification time: the tombstones' clock (tombstoneTime) must not restart.
          await handle.utimes(new Date(), new Date(modifiedMs));
          if (durable) await handle.sync();
        } finally {
          await handle.close();
        }
        await indexFor(indexTemp, c.segment.baseOffset, this.options.indexIntervalBytes, out.chunks).write(durable);
        await step('temp-written');
        removed += out.removed;
        bytesBefore += c.segment.size;
        bytesAfter += out.bytes;
      }
    } catch (err) {
      for (const p of plans) await removeTemps(p.logTemp, p.indexTemp);
      throw err;
    }
    if (plans.length === 0) {
      this.compactedUpTo = last.endOffset;
      return none;
    }

    return this.queue.task(async () => {
      const live = plans.filter((p) => this.segments.indexOf(p.segment) >= 0 && this.segments.indexOf(p.segment) < this.segments.length - 1);
      for (const p of plans) if (!live.includes(p)) await removeTemps(p.logTemp, p.indexTemp);
      if (live.length === 0) return none;
      // The swap, per segment: the old index goes first (a missing index is rebuilt from the data at
      // open, while an old index beside new data could point at the wrong bytes), then the data is
      // renamed over the old (atomic: a crash leaves the old or the new file, each whole), then the index.
      this.generation++;
      try {
        for (const p of live) {
          await unlink(p.segment.index.path).catch(ignoreMissing);
          await step('index-removed');
          await rename(p.logTemp, p.segment.logPath);
          await step('log-renamed');
          await rename(p.indexTemp, p.segment.index.path);
          await step('index-renamed');
        }
        if (durable) await fsyncDir(this.dir);
        await step('dir-synced');
        for (const p of live) {
          const i = this.segments.indexOf(p.segment);
          const opened = await LogSegment.openClosed(this.dir, p.segment.baseOffset, p.endOffset, this.options.indexIntervalBytes, this.files, this.log);
          this.segments[i] = opened.segment;
          this.unflushed.delete(p.segment);
          this.largestTimestamps.delete(p.segment);
          await p.segment.retire();
        }
      } catch (err) {
        // The files are each whole (old or new), but this object may no longer match them: reopening does.
        this.failure = new Error(`compaction's swap of segment files failed halfway (reopen the log): ${errorText(err)}`);
        throw err;
      } finally {
        this.generation++;
      }
      this.compactedUpTo = last.endOffset;
      // Segments left holding only gaps at the front of the log hold nothing to read: the log starts after them.
      let front = 0;
      while (front + 1 < this.segments.length && live.some((p) => p.gapsOnly && p.segment.baseOffset === this.segments[front]!.baseOffset)) front++;
      if (front > 0) await this.deleteFront(front, this.segments[front]!.baseOffset);
      this.log(`compaction: ${live.length} segment(s) rewritten, ${removed} superseded record(s) removed, ${bytesBefore} -> ${bytesAfter} bytes${front > 0 ? `; the log now starts at ${this.logStart}` : ''}`);
      return { segments: live.length, removed, bytesBefore, bytesAfter, logStartOffset: this.logStart };
    });
  }

  /** A closed segment's bytes, whole. */
  private async readWhole(segment: LogSegment): Promise<Buffer> {
    segment.retain();
    try {
      return await segment.readAt(0, segment.size);
    } finally {
      segment.release();
    }
  }

  advanceLogStart(offset: number): Promise<void> {
    checkOffset(offset, 'offset');
    return this.queue.task(async () => {
      const target = Math.min(offset, this.committed);
      if (target <= this.logStart) return;
      let n = 0;
      while (n + 1 < this.segments.length && this.segments[n + 1]!.baseOffset <= target) n++;
      await this.deleteFront(n, target);
      if (n > 0) this.log(`log start offset now ${target} (the leader's): deleted ${n} segment(s) below it`);
    });
  }

  restartAt(offset: number): Promise<void> {
    checkOffset(offset, 'offset');
    return this.queue.task(async () => {
      if (this.logEnd > offset) throw new RangeError(`cannot restart the log at ${offset}: it holds records up to ${this.logEnd - 1}`);
      const durable = this.options.fsync !== 'never';
      // The checkpoint first: a crash after it leaves old segments that open() deletes (log-start.ts).
      await writeLogStart(this.dir, offset, durable);
      const old = this.segments;
      const last = old[old.length - 1]!;
      // A last segment already at `offset` is empty (the log ends at or below it): keep it.
      const keep = last.baseOffset === offset ? last : await LogSegment.create(this.dir, offset, this.options.indexIntervalBytes, this.files);
      this.generation++;
      try {
        this.segments = [keep];
        this.logEnd = offset;
        this.committed = offset;
        this.logStart = offset;
        for (const s of old) {
          if (s === keep) continue;
          this.unflushed.delete(s);
          this.largestTimestamps.delete(s);
          await s.delete();
        }
        if (durable) await this.syncFolder();
        // Every epoch the cache knows started below `offset`; the leader's records bring theirs.
        if (this.cache.truncateFromEnd(0) || this.epochCheckpointDue) await this.writeEpochCheckpoint(true);
        await this.writeHighWatermarkCheckpoint(durable);
      } catch (err) {
        this.failure = new Error(`restarting the log at offset ${offset} failed halfway: ${errorText(err)}`);
        throw err;
      } finally {
        this.generation++;
      }
      this.log(`log restarted empty at offset ${offset} (the leader's log start; this replica's log ended below it)`);
    });
  }

  flush(): Promise<void> {
    return this.queue.task(() => this.reportingStorage('flush', () => this.flushNow(true)));
  }

  /** Write the checkpoints that are due (checkpointsDue), without fsyncing segments. */
  writeCheckpoints(): Promise<void> {
    return this.queue.task(() => this.reportingStorage('checkpoint', () => this.writeDueCheckpoints(this.options.fsync !== 'never')));
  }

  /**
   * Whether close() left nothing a crash could have: everything flushed, no failed write or
   * truncation left half done, no torn bytes past a segment's records (clean-shutdown.ts).
   */
  closedCleanly(): boolean {
    return this.cleanClose;
  }

  close(): Promise<void> {
    this.closing ??= this.queue.task(async () => {
      try {
        if (!this.failure) {
          await this.flushNow(true);
          await this.active().index.write(true);
          this.cleanClose = !this.unfinishedTruncation && !this.segments.some((s) => s.hasTornTail());
        }
      } finally {
        this.closed = true;
        for (const s of this.segments) await s.close();
      }
    }, true);
    return this.closing;
  }

  /** Checkpoint `logStart`, then drop the first `count` segments (never the active one). In the write queue. */
  private async deleteFront(count: number, logStart: number): Promise<void> {
    const durable = this.options.fsync !== 'never';
    await writeLogStart(this.dir, logStart, durable);
    this.logStart = logStart;
    const doomed = this.segments.slice(0, Math.min(count, this.segments.length - 1));
    if (doomed.length === 0) return;
    this.segments = this.segments.slice(doomed.length);
    // Readers holding a doomed segment finish their read: its handle closes after them.
    for (const s of doomed) {
      this.unflushed.delete(s);
      this.largestTimestamps.delete(s);
      await s.delete();
    }
    if (durable) await this.syncFolder();
  }

  private active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** The segment holding `offset`: the last one whose base offset is <= it. */
  private segmentFor(offset: number): LogSegment | undefined {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found: LogSegment | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.segments[mid]!;
      if (s.baseOffset <= offset) {
        found = s;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Where a truncation to `offset` cuts: `offset` itself, or the start of the compressed batch it
   * lies inside (entries are replicated whole, so replicas agree on boundaries) — never by rounding
   * below the high-water mark: that would drop committed records.
   */
  private async entryBoundary(offset: number): Promise<number> {
    const segment = this.segmentFor(offset);
    if (!segment) return offset;
    segment.retain();
    let start: number;
    try {
      start = (await segment.entryStart(offset)).offset;
    } finally {
      segment.release();
    }
    if (start === offset) return offset;
    if (start < this.committed) throw new RangeError(`cannot truncate to ${offset}: it lies inside the compressed batch starting at ${start}, and cutting there would drop records below the high-water mark ${this.committed}`);
    this.log(`truncation to offset ${offset} rounded down to ${start}, the start of the compressed batch holding it`);
    return start;
  }

  /**
   * Plain records for read()/readEncoded(), with offsets in [from, upTo): whole records as stored,
   * one buffer per segment read, except compressed batches, decompressed with the records outside
   * [from, upTo) cut away (a read starting inside a batch, a batch straddling the high-water mark).
   */
  private async readOnce(from: number, upTo: number, maxRecords: number, maxBytes: number): Promise<Buffer[]> {
    const end = Math.min(upTo, this.logEnd);
    const out: Buffer[] = [];
    let count = 0;
    let next = from;
    let bytes = 0;
    while (next < end && count < maxRecords && (count === 0 || bytes < maxBytes)) {
      const segment = this.segmentFor(next);
      if (!segment) break;
      const wanted = Math.min(end - next, maxRecords - count);
      segment.retain();
      let chunk;
      try {
        chunk = await segment.readRecords(next, next + wanted, maxBytes - bytes, count === 0, Math.ceil(wanted * this.recordBytesEstimate * 1.25));
      } finally {
        segment.release();
      }
      if (chunk.entries === 0) break;
      this.recordBytesEstimate = chunk.bytes.length / (chunk.nextOffset - chunk.firstOffset);
      if (!chunk.compressed && chunk.firstOffset === next) {
        out.push(chunk.bytes);
        count += chunk.nextOffset - next;
        bytes += chunk.bytes.length;
      } else {
        const expanded = expandEntries(chunk.bytes, next, end, maxRecords - count);
        for (const b of expanded.buffers) {
          out.push(b);
          bytes += b.length;
        }
        count += expanded.count;
      }
      next = chunk.nextOffset;
    }
    return out;
  }

  /** Run a read again if a truncation changed the log while it ran. */
  private async readConsistently<T>(readOnce: () => Promise<T>): Promise<T> {
    for (;;) {
      if (this.closed) throw new Error(`partition log ${this.topic}-${this.partition} is closed`);
      const generation = this.generation;
      try {
        const result = await readOnce();
        if (generation === this.generation && generation % 2 === 0) return result;
      } catch (err) {
        if (generation === this.generation && generation % 2 === 0) throw err;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Encode the calls' records back to back (one buffer each), write them all at once. */
  private async appendGroup(calls: PendingAppend<AppendRequest, AppendResult>[]): Promise<void> {
    const epoch = calls[0]!.item.epoch;
    const latest = this.cache.latestEpoch();
    if (epoch < latest) {
      const err = new Error(`cannot append with epoch ${epoch}: the log's last epoch is ${latest}`);
      for (const c of calls) c.reject(err);
      return;
    }
    const chunks: Buffer[] = [];
    const written: { call: PendingAppend<AppendRequest, AppendResult>; baseOffset: number; count: number }[] = [];
    const firstOffset = this.logEnd;
    let offset = firstOffset;
    let bytes = 0;
    for (const call of calls) {
      const { records } = call.item;
      if (records.length === 0) {
        call.resolve({ baseOffset: offset, lastOffset: offset - 1 });
        continue;
      }
      try {
        const codec = call.item.compression === undefined ? undefined : codecByName(call.item.compression);
        const encoded = codec ? encodeCompressedBatch(records, offset, epoch, codec) : encodeRecords(records, offset, epoch);
        chunks.push(encoded);
        written.push({ call, baseOffset: offset, count: records.length });
        offset += records.length;
        bytes += encoded.length;
      } catch (err) {
        call.reject(err);
      }
    }
    if (chunks.length === 0) return;
    try {
      await this.reportingStorage('append', async () => {
        await this.finishTruncation();
        if (this.logEnd !== firstOffset) throw new Error(`log end moved from ${firstOffset} to ${this.logEnd} while finishing a truncation`);
        await this.writeRecords(chunks, bytes, firstOffset, offset - firstOffset, epoch > latest ? [{ epoch, startOffset: firstOffset }] : []);
      }, true);
    } catch (err) {
      for (const w of written) w.call.reject(err);
      return;
    }
    for (const w of written) w.call.resolve({ baseOffset: w.baseOffset, lastOffset: w.baseOffset + w.count - 1 });
  }

  /**
   * Write encoded records (offsets firstOffset.. firstOffset+count-1), rolling first if the active
   * segment would pass segmentBytes; record new epochs; only then move the log end. On failure the
   * log is put back as it was.
   */
  private async writeRecords(chunks: Buffer[], bytes: number, firstOffset: number, count: number, newEpochs: EpochEntry[]): Promise<void> {
    let active = this.active();
    if (active.size > 0 && active.size + bytes > this.options.segmentBytes) active = await this.roll(firstOffset);
    const position = active.size;
    await active.append(chunks, firstOffset);
    try {
      if (this.options.fsync === 'always') {
        await active.flush();
        await this.syncFolderOnce();
      } else {
        this.unflushed.add(active);
      }
      // The epoch cache's checkpoint is written later (flush, roll, close), off the write path: a
      // crash before it leaves it lagging behind the last segment, whose epochs the loader adds
      // back from the records (reconcileEpochCache). It cost the first record into every
      // partition two fsyncs on each replica, in the acknowledgement's path.
      for (const e of newEpochs) if (this.cache.assign(e.epoch, e.startOffset)) this.epochCheckpointDue = true;
    } catch (err) {
      let undone = true;
      try {
        await active.truncateAt(position, firstOffset);
      } catch {
        // The bytes stay in the file for now; the segment forgets them and cuts them before its next append.
        active.abandonTail(position, firstOffset);
        undone = false;
      }
      this.cache.truncateFromEnd(firstOffset);
      throw classifyStorageError(err, `${this.topic}-${this.partition}: write at offset ${firstOffset}`, !undone) ?? err;
    }
    this.logEnd = firstOffset + count;
    this.recordBytesEstimate = bytes / count;
  }

  /** Follower: the leader's log start is `offset`; records lost at our front below it are no loss any more (UncleanState.logStartUntil). */
  async leaderLogStartSeen(offset: number): Promise<void> {
    if (!this.uncleanMark?.current?.logStartUntil) return;
    await this.queue.task(() => this.liftUncleanMark(offset));
  }

  /** Re-fetched past the damage found at open (only a leader's records count): this replica holds what it lost again. */
  private async liftUncleanMark(leaderLogStart = -1): Promise<void> {
    try {
      if (await this.uncleanMark!.reached(this.logEnd, leaderLogStart)) this.log(`clean again: re-fetched up to offset ${this.logEnd}${leaderLogStart >= 0 ? `, the leader's log start is ${leaderLogStart}` : ''}`);
    } catch (err) {
      this.log(`could not lift the unclean mark (tried again at the next write): ${errorText(err)}`);
    }
  }

  /** Close the active segment (fsync it and write its index) and start a new one at `baseOffset`. */
  private async roll(baseOffset: number): Promise<LogSegment> {
    const old = this.active();
    const durable = this.options.fsync !== 'never';
    if (durable) {
      await old.flush();
      this.unflushed.delete(old);
    }
    await old.index.write(durable);
    // Epochs may lag in the checkpoint only inside the last segment (where the loader finds them
    // again): written before the roll; the folder's fsync below makes the rename durable.
    if (this.epochCheckpointDue) await this.writeEpochCheckpoint(false);
    const segment = await LogSegment.create(this.dir, baseOffset, this.options.indexIntervalBytes, this.files);
    try {
      if (durable) await this.syncFolder();
    } catch (err) {
      await segment.delete().catch(() => undefined);
      throw err;
    }
    this.segments.push(segment);
    return segment;
  }

  private async flushNow(durable: boolean): Promise<void> {
    for (const s of [...this.unflushed]) {
      await s.flush();
      this.unflushed.delete(s);
    }
    if (durable) await this.syncFolderOnce();
    await this.writeDueCheckpoints(durable);
  }

  /** fsync the folder if its entries were never made durable (see the constructor's folderSynced). */
  private async syncFolderOnce(): Promise<void> {
    if (!this.folderSynced) await this.syncFolder();
  }

  private async syncFolder(): Promise<void> {
    await fsyncDir(this.dir);
    this.folderSynced = true;
  }

  /**
   * The checkpoints due, after the records they speak of (flushNow fsyncs those first). The epoch
   * cache's rename is not fsynced here: lost to a power cut, it leaves the checkpoint lagging inside
   * the last segment, which the loader repairs (a roll fsyncs the folder, so it never lags further).
   */
  private async writeDueCheckpoints(durable: boolean): Promise<void> {
    if (this.epochCheckpointDue) await this.writeEpochCheckpoint(false);
    await this.writeHighWatermarkCheckpoint(durable);
  }

  private async writeEpochCheckpoint(syncFolder: boolean): Promise<void> {
    this.epochCheckpointDue = false;
    try {
      await this.cache.persist(syncFolder);
    } catch (err) {
      this.epochCheckpointDue = true;
      throw err;
    }
  }

  private async writeHighWatermarkCheckpoint(durable: boolean): Promise<void> {
    const highWatermark = this.committed;
    if (highWatermark === this.checkpointedHighWatermark) return;
    await writeHighWatermark(this.dir, highWatermark, durable);
    this.checkpointedHighWatermark = highWatermark;
  }
}

/** Compaction's temp files: `<base>.log.compact.tmp`, `<base>.index.compact.tmp` (open() deletes any *.tmp). */
const COMPACT_SUFFIX = '.compact';

async function removeTemps(...paths: string[]): Promise<void> {
  for (const p of paths) await unlink(p).catch(() => undefined);
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

/** Rough encoded size of records (string lengths, not UTF-8 bytes), to bound a write group. */
function estimateBytes(records: readonly RecordInput[]): number {
  let n = 0;
  for (const r of records) n += 64 + r.payload.length + (r.key?.length ?? 0);
  return n;
}

/**
 * The invariant high-water mark <= log end offset, in memory: nothing can be committed that the
 * log does not hold. Bad disk content never reaches here (the loader clamps and marks it), so a
 * violation is a bug in this layer and throws rather than letting a reader see missing offsets.
 */
function assertHighWatermarkWithinLog(highWatermark: number, logEndOffset: number, where: string): void {
  if (highWatermark > logEndOffset) throw new Error(`invariant broken (${where}): high-water mark ${highWatermark} is past the log end offset ${logEndOffset}`);
}

function checkOffset(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Refuses options no log can run with (the loader checks them before opening anything). */
export function checkLogOptions(options: LogOptions): void {
  const { segmentBytes, indexIntervalBytes } = options;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) throw new RangeError(`segmentBytes must be an integer in 1..${MAX_SEGMENT_BYTES}, got ${segmentBytes}`);
  if (!Number.isSafeInteger(indexIntervalBytes) || indexIntervalBytes < 1) throw new RangeError(`indexIntervalBytes must be a positive integer, got ${indexIntervalBytes}`);
}
