import fs from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CachedFile, FileHandleCache } from './file-handle-cache.js';
import { OffsetIndex } from './offset-index.js';
import {
  InvalidBatchError,
  LENGTH_FIELD_BYTES,
  entryCountAt,
  entryEndOffsetAt,
  isMultiEntryAt,
  recordOffsetAt,
  recordSizeAt,
  scanRecords,
  type ScanOptions,
  type ScanStop,
} from './record-codec.js';
import { classifyStorageError } from './storage-error.js';
import type { EpochEntry } from './types.js';

const NAME_DIGITS = 20;
const SEGMENT_NAME = /^(\d{20})\.log$/;
/** Bytes read at a time when walking a whole segment (recovery, index rebuild). */
const SCAN_CHUNK_BYTES = 1 << 20;
/** Smallest positional read when looking for a record. */
const MIN_READ_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * Reads this close to the end of a segment (what followers and caught-up consumers ask for) were
 * just written, so they come from the page cache: a synchronous pread costs microseconds there, far
 * less than the thread-pool round trip of an asynchronous read (see writeFullySync). Older data may
 * need the disk and is read asynchronously, so a cold read never stalls the event loop.
 */
const HOT_TAIL_BYTES = 4 << 20;

/** `00000000000000000042.log` for base offset 42, as Kafka names them. */
export function segmentFileName(baseOffset: number, suffix: '.log' | '.index'): string {
  return String(baseOffset).padStart(NAME_DIGITS, '0') + suffix;
}

/** The base offset of a segment data file's name, or undefined for any other file. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  const base = Number(m[1]);
  return Number.isSafeInteger(base) ? base : undefined;
}

/**
 * Whole stored entries read from one segment: plain records and compressed batches. The first
 * entry holds the offset asked for, which may lie inside it (a batch starting below it).
 */
export interface SegmentRead {
  bytes: Buffer;
  /** Entries in `bytes`. */
  entries: number;
  /** Offset of the first entry (<= the offset asked for), and one past the last entry's last offset. */
  firstOffset: number;
  nextOffset: number;
  /** Some entry is a compressed batch or a compaction gap (readers that decode records must expand them). */
  compressed: boolean;
  /** Byte position of the entry holding the offset asked for (the segment's size if it is not in the segment). */
  position: number;
}

export interface WalkResult {
  /** Position just after the last valid record. */
  end: number;
  count: number;
  nextOffset: number;
  stop: ScanStop;
}

export interface RecoveredSegment {
  segment: LogSegment;
  /** One past the last valid record (the base offset when there is none). */
  nextOffset: number;
  truncatedBytes: number;
  rebuiltIndex: boolean;
  /** The first record's epoch and every later change, as in the epoch cache. */
  epochs: EpochEntry[];
}

/**
 * One segment (Kafka's LogSegment): the `<base>.log` data file, for positional appends and reads,
 * and its sparse OffsetIndex. The file is open only while the broker's FileHandleCache keeps it so
 * (it reopens on demand). `size` only counts whole records that have been written; callers
 * serialize appends and truncations.
 */
export class LogSegment {
  private readers = 0;
  private deleted = false;
  private handleClosed = false;
  /** A deleted segment holds its file open (acquired) until its last reader leaves. */
  private heldForReaders = false;
  /**
   * Set when the file may hold bytes past `size` that a failed write left and could not remove:
   * they are cut before the next append, so a record written later never follows garbage.
   */
  private tornTail = false;
  /** The index was rebuilt from the records after a read found it pointing at the wrong bytes (once is enough). */
  private indexRebuilt = false;
  private indexRebuilding: Promise<boolean> | undefined;
  /** Where a rebuild of the index is told (set when the segment is opened from disk). */
  private log: ((line: string) => void) | undefined;

  private constructor(
    readonly baseOffset: number,
    readonly logPath: string,
    private readonly file: CachedFile,
    readonly index: OffsetIndex,
    private bytes: number,
  ) {}

  /** Bytes of whole records in the data file. */
  get size(): number {
    return this.bytes;
  }

  /** A new, empty segment starting at `baseOffset` (replaces any file of that name). */
  static async create(dir: string, baseOffset: number, indexIntervalBytes: number, files: FileHandleCache): Promise<LogSegment> {
    const logPath = join(dir, segmentFileName(baseOffset, '.log'));
    const file = files.file(logPath);
    await file.adopt(await open(logPath, 'w+'));
    const index = new OffsetIndex(join(dir, segmentFileName(baseOffset, '.index')), baseOffset, indexIntervalBytes);
    const segment = new LogSegment(baseOffset, logPath, file, index, 0);
    try {
      await index.write(false);
    } catch (err) {
      // An empty segment left behind would read, at the next start, as a last segment that lost its records.
      await file.close();
      await unlink(logPath).catch(() => undefined);
      await unlink(index.path).catch(() => undefined);
      throw err;
    }
    return segment;
  }

  /**
   * Open a segment that is not the last one, whose records end before `endOffset` (the next segment's
   * base). Its data is trusted; its index too if it is plausible, else the index is rebuilt by a scan.
   */
  static async openClosed(dir: string, baseOffset: number, endOffset: number, indexIntervalBytes: number, files: FileHandleCache, log: (line: string) => void): Promise<{ segment: LogSegment; rebuiltIndex: boolean }> {
    const logPath = join(dir, segmentFileName(baseOffset, '.log'));
    const indexPath = join(dir, segmentFileName(baseOffset, '.index'));
    const handle = files.file(logPath);
    try {
      const size = (await handle.with((h) => h.stat())).size;
      const loaded = await OffsetIndex.load(indexPath, baseOffset, indexIntervalBytes, size, endOffset);
      const index = loaded instanceof OffsetIndex ? loaded : new OffsetIndex(indexPath, baseOffset, indexIntervalBytes);
      const segment = new LogSegment(baseOffset, logPath, handle, index, size);
      segment.log = log;
      const problem = typeof loaded === 'string' ? loaded : await segment.checkLastIndexEntry();
      if (problem === undefined) return { segment, rebuiltIndex: false };

      const rebuilt = new OffsetIndex(indexPath, baseOffset, indexIntervalBytes);
      const walk = await segment.walk({ expectedOffset: baseOffset, verifyCrc: false, onRecord: (pos, sz, off) => rebuilt.onRecord(off, pos, sz) });
      const fresh = new LogSegment(baseOffset, logPath, handle, rebuilt, size);
      fresh.log = log;
      await rebuilt.write(true);
      log(`${indexPath}: index rebuilt (${problem}), ${rebuilt.entries} entries`);
      if (walk.stop !== 'end') log(`${logPath}: records stop being valid at byte ${walk.end} of ${size} (${walk.stop}); reads past offset ${walk.nextOffset - 1} will fail`);
      return { segment: fresh, rebuiltIndex: true };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * Open the last segment: scan it from the start checking every CRC and that offsets run on from the
   * base, cut whatever follows the last valid record, and rebuild its index from the scan.
   */
  static async recover(dir: string, baseOffset: number, indexIntervalBytes: number, files: FileHandleCache, log: (line: string) => void): Promise<RecoveredSegment> {
    const logPath = join(dir, segmentFileName(baseOffset, '.log'));
    const indexPath = join(dir, segmentFileName(baseOffset, '.index'));
    const handle = files.file(logPath);
    try {
      const fileSize = (await handle.with((h) => h.stat())).size;
      const index = new OffsetIndex(indexPath, baseOffset, indexIntervalBytes);
      const segment = new LogSegment(baseOffset, logPath, handle, index, fileSize);
      segment.log = log;
      const epochs: EpochEntry[] = [];
      let lastEpoch = -1;
      const walk = await segment.walk({
        expectedOffset: baseOffset,
        verifyCrc: true,
        onRecord: (pos, size, offset, epoch) => {
          index.onRecord(offset, pos, size);
          if (epoch !== lastEpoch) epochs.push({ epoch, startOffset: offset });
          lastEpoch = epoch;
        },
      });
      const truncatedBytes = fileSize - walk.end;
      if (truncatedBytes > 0) {
        await handle.with(async (h) => {
          await h.truncate(walk.end);
          await h.sync();
        });
        segment.bytes = walk.end;
        log(`${logPath}: cut ${truncatedBytes} byte(s) of torn or corrupt tail at byte ${walk.end} (${walk.stop}); the log ends at offset ${walk.nextOffset}`);
      }
      const problem = await segment.compareIndexFile();
      if (problem !== undefined) {
        await index.write(false);
        log(`${indexPath}: index rebuilt (${problem}), ${index.entries} entries`);
      }
      return { segment, nextOffset: walk.nextOffset, truncatedBytes, rebuiltIndex: problem !== undefined, epochs };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Whether bytes of a failed write may still lie past `size` in the file (cut before the next append). */
  hasTornTail(): boolean {
    return this.tornTail;
  }

  /**
   * Write whole encoded records (one positional writev) starting with offset `firstOffset`. On a
   * failure the file is cut back to where it was; a StorageError says whether that worked (`torn`
   * false: the file is as before) or not (`torn` true: the bytes are cut before the next append).
   */
  async append(chunks: readonly Buffer[], firstOffset: number): Promise<void> {
    if (this.tornTail) await this.cutTornTail();
    const start = this.bytes;
    let total = 0;
    for (const c of chunks) total += c.length;
    const progress = { written: 0 };
    let handle;
    try {
      handle = this.file.tryAcquire() ?? (await this.file.acquire());
    } catch (err) {
      throw classifyStorageError(err, `${this.logPath}: opening for an append at byte ${start}`) ?? err;
    }
    try {
      this.file.wrote();
      writeFullySync(handle.fd, chunks, total, start, progress);
    } catch (err) {
      // A failed write(2) writes nothing; only earlier short writes of this append can be in the file.
      throw classifyStorageError(err, `${this.logPath}: append at byte ${start}`, progress.written > 0 && !(await this.tryCut(start))) ?? err;
    } finally {
      this.file.release();
    }
    let offset = firstOffset;
    let pos = start;
    for (const chunk of chunks) {
      for (let p = 0; p < chunk.length; ) {
        const size = LENGTH_FIELD_BYTES + chunk.readUInt32BE(p);
        this.index.onRecord(offset, pos + p, size);
        offset += entryCountAt(chunk, p, size);
        p += size;
      }
      pos += chunk.length;
    }
    this.bytes = start + total;
  }

  /**
   * Forget the records from `offset` (at byte `position`) after a write whose undo failed: the
   * segment's size and in-memory index go back at once, the file is cut before the next append.
   */
  abandonTail(position: number, offset: number): void {
    if (position >= this.bytes) return;
    this.index.forget(offset, position);
    this.bytes = position;
    this.tornTail = true;
  }

  /** Cut the file back to `size` (the torn bytes of an earlier failed write). */
  private async cutTornTail(): Promise<void> {
    try {
      this.file.wrote();
      await this.file.with((h) => h.truncate(this.bytes));
    } catch (err) {
      throw classifyStorageError(err, `${this.logPath}: cutting a failed write's bytes at byte ${this.bytes}`) ?? err;
    }
    this.tornTail = false;
  }

  /** Truncate to `position`; false (and the tail marked torn) when even that fails. */
  private async tryCut(position: number): Promise<boolean> {
    try {
      this.file.wrote();
      await this.file.with((h) => h.truncate(position));
      return true;
    } catch {
      this.tornTail = true;
      return false;
    }
  }

  /**
   * Whole entries starting with the one holding offset `offset` (a compressed batch may start below
   * it), each starting below `endOffset`, at most `maxBytes` of them — but at least one when
   * `atLeastOne`. Uses the index, then reads one bounded chunk; `readHint` (bytes the caller expects
   * to need) keeps that chunk small, at the price of returning fewer entries when it was too low.
   */
  async readRecords(offset: number, endOffset: number, maxBytes: number, atLeastOne: boolean, readHint = maxBytes): Promise<SegmentRead> {
    const limit = this.bytes;
    const entry = this.index.lookupEntry(offset);
    let pos = entry.position;
    let want = Math.max(MIN_READ_BYTES, Math.ceil(this.index.intervalBytes + Math.max(0, Math.min(maxBytes, readHint))));
    let atEntry = true;
    while (pos < limit) {
      const chunk = await this.readAt(pos, Math.min(want, limit - pos));
      if (chunk.length === 0) break; // the file is shorter than we knew: a truncation raced this read
      if (atEntry && pos > 0 && !this.startsRecord(chunk, entry.offset)) {
        // The index file was loaded trusting its middle entries (only the last is checked at open):
        // this one points into the wrong bytes. Scanning from there reads garbage as lengths — an
        // error on every read of these offsets, or an empty answer for records that exist.
        if (!(await this.rebuildIndex(`its entry for offset ${entry.offset} points at byte ${pos}, which does not start that record`))) {
          throw new InvalidBatchError(`${this.logPath}: the index entry for offset ${entry.offset} points at byte ${pos}, which does not start that record`);
        }
        return this.readRecords(offset, endOffset, maxBytes, atLeastOne, readHint);
      }
      atEntry = false;
      const complete = pos + chunk.length >= limit;
      let at = 0;
      let size = recordSizeAt(chunk, at);
      // Skip entries wholly below `offset` (a plain record's offset is below it; a batch ends at or below it).
      while (size > 0) {
        const o = recordOffsetAt(chunk, at);
        if (o >= offset || (isMultiEntryAt(chunk, at) && entryEndOffsetAt(chunk, at, size) > offset)) break;
        at += size;
        size = recordSizeAt(chunk, at);
      }
      if (size === -2) throw new InvalidBatchError(`${this.logPath}: impossible record length at byte ${pos + at}`);
      if (size === -1) {
        // The chunk ended (on an entry boundary or inside one) before the entry asked for: read on.
        if (complete) return { bytes: EMPTY, entries: 0, firstOffset: offset, nextOffset: offset, compressed: false, position: pos + at };
        if (at < chunk.length) want = Math.max(want, neededBytes(chunk, at));
        pos += at;
        continue;
      }
      const first = recordOffsetAt(chunk, at);
      if (first > offset) throw new InvalidBatchError(`${this.logPath}: expected offset ${offset} at byte ${pos + at}, found ${first}`);
      let end = at;
      let entries = 0;
      let next = first;
      let compressed = false;
      for (;;) {
        const s = recordSizeAt(chunk, end);
        if (s < 0) break;
        const o = recordOffsetAt(chunk, end);
        if (o >= endOffset) break;
        if (end - at + s > maxBytes && !(atLeastOne && entries === 0)) break;
        // Plain records (the common case) cover one offset; only a batch's or a gap's header is read further.
        if (isMultiEntryAt(chunk, end)) {
          compressed = true;
          next = o + Math.max(1, entryCountAt(chunk, end, s));
        } else {
          next = o + 1;
        }
        end += s;
        entries++;
      }
      return { bytes: chunk.subarray(at, end), entries, firstOffset: first, nextOffset: entries > 0 ? next : first, compressed, position: pos + at };
    }
    return { bytes: EMPTY, entries: 0, firstOffset: offset, nextOffset: offset, compressed: false, position: limit };
  }

  /**
   * Where the entry holding `offset` starts: its byte position and first offset (a batch's base,
   * below `offset` when it lies inside one); the segment's size and `offset` when it is past the last.
   */
  async entryStart(offset: number): Promise<{ position: number; offset: number }> {
    if (offset <= this.baseOffset) return { position: 0, offset: this.baseOffset };
    const r = await this.readRecords(offset, offset + 1, 0, true);
    return r.entries === 0 ? { position: r.position, offset } : { position: r.position, offset: r.firstOffset };
  }

  /**
   * Drop entries holding offsets >= `offset` from the file and the index; returns the bytes
   * removed. `offset` must be an entry boundary (PartitionLog.truncateTo rounds down to one).
   */
  async truncateTo(offset: number): Promise<number> {
    const start = await this.entryStart(offset);
    if (start.offset !== offset) throw new RangeError(`${this.logPath}: offset ${offset} lies inside the compressed batch starting at ${start.offset}; truncate to a batch boundary`);
    return this.truncateAt(start.position, offset);
  }

  /** Cut the file at `position`, where the record `offset` begins. */
  async truncateAt(position: number, offset: number): Promise<number> {
    const removed = this.bytes - position;
    if (removed <= 0) return 0;
    // The index first: an index that names records past the data is read at open as records lost.
    await this.index.truncateTo(offset, position);
    this.file.wrote();
    await this.file.with((h) => h.truncate(position));
    this.bytes = position;
    return removed;
  }

  /** Up to `length` bytes from `position` (fewer at the end of the file). */
  async readAt(position: number, length: number): Promise<Buffer> {
    if (length <= 0) return EMPTY;
    const buffer = Buffer.allocUnsafe(length);
    const hot = position >= this.bytes - HOT_TAIL_BYTES;
    let got = 0;
    const handle = this.file.tryAcquire() ?? (await this.file.acquire());
    try {
      while (got < length) {
        const bytesRead = hot
          ? fs.readSync(handle.fd, buffer, got, length - got, position + got)
          : (await handle.read(buffer, got, length - got, position + got)).bytesRead;
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } finally {
      this.file.release();
    }
    return got === length ? buffer : buffer.subarray(0, got);
  }

  /** When the data file was last written to (the broker's clock): compaction's measure of a tombstone's age. */
  async lastModifiedMs(): Promise<number> {
    return (await this.file.with((h) => h.stat())).mtimeMs;
  }

  /** The first record's epoch and every later change, by a header walk (no CRC check). */
  async epochChanges(): Promise<EpochEntry[]> {
    const epochs: EpochEntry[] = [];
    let lastEpoch = -1;
    await this.walk({
      expectedOffset: this.baseOffset,
      verifyCrc: false,
      onRecord: (_pos, _size, offset, epoch) => {
        if (epoch !== lastEpoch) epochs.push({ epoch, startOffset: offset });
        lastEpoch = epoch;
      },
    });
    return epochs;
  }

  /** fsync the data file (nothing to do when everything written is synced: the handle cache may have done it before closing the file). */
  async flush(): Promise<void> {
    await this.file.datasync();
  }

  /** A reader is using the file; a deleted segment keeps its handle open until the last one leaves. */
  retain(): void {
    this.readers++;
  }

  release(): void {
    this.readers--;
    if (this.readers === 0 && this.deleted) {
      if (this.heldForReaders) this.file.release();
      this.heldForReaders = false;
      void this.closeHandle();
    }
  }

  /** Remove both files; the handle closes once no reader holds it. */
  async delete(): Promise<void> {
    this.deleted = true;
    if (this.readers > 0 && !this.heldForReaders && !this.handleClosed) {
      // Readers may still need the data after the unlink: the file must not be closed (and so lost) under them.
      await this.file.acquire();
      if (this.readers > 0) this.heldForReaders = true;
      else this.file.release();
    }
    await unlink(this.logPath).catch(ignoreMissing);
    await unlink(this.index.path).catch(ignoreMissing);
    if (this.readers === 0) await this.closeHandle();
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  /**
   * Stop using this segment object without touching the files: its file was replaced by a
   * compacted one under the same name (log/compaction.ts). Readers still holding it finish on the
   * old file (its handle stays open for them, as for a deleted segment); then the handle closes.
   */
  async retire(): Promise<void> {
    this.deleted = true;
    if (this.readers > 0 && !this.heldForReaders && !this.handleClosed) {
      await this.file.acquire();
      if (this.readers > 0) this.heldForReaders = true;
      else this.file.release();
    }
    if (this.readers === 0) await this.closeHandle();
  }

  /** Walk every record from the start of the file, in chunks, until one is not valid. */
  async walk(options: ScanOptions): Promise<WalkResult> {
    const limit = this.bytes;
    let pos = 0;
    let want = SCAN_CHUNK_BYTES;
    let expected = options.expectedOffset ?? -1;
    let count = 0;
    const onRecord = options.onRecord;
    while (pos < limit) {
      const chunkStart = pos;
      const chunk = await this.readAt(pos, Math.min(want, limit - pos));
      if (chunk.length === 0) return { end: pos, count, nextOffset: expected, stop: 'past-end' };
      const scan = scanRecords(chunk, {
        expectedOffset: expected,
        verifyCrc: options.verifyCrc ?? true,
        ...(onRecord && { onRecord: (p: number, s: number, o: number, e: number, n: number) => onRecord(chunkStart + p, s, o, e, n) }),
      });
      count += scan.count;
      expected = scan.nextOffset;
      pos = chunkStart + scan.validBytes;
      if (scan.stop === 'end') {
        want = SCAN_CHUNK_BYTES;
        continue;
      }
      const cutByChunk = scan.stop === 'torn-length' || scan.stop === 'past-end';
      if (cutByChunk && chunkStart + chunk.length < limit) {
        want = Math.max(SCAN_CHUNK_BYTES, scan.needBytes);
        continue;
      }
      return { end: pos, count, nextOffset: expected, stop: scan.stop };
    }
    return { end: pos, count, nextOffset: expected, stop: 'end' };
  }

  /** Whether `chunk` (read at an index entry's position) starts with a record or batch whose first offset is `offset`. */
  private startsRecord(chunk: Buffer, offset: number): boolean {
    if (chunk.length < 16 || recordSizeAt(chunk, 0) === -2) return false;
    return recordOffsetAt(chunk, 0) === offset;
  }

  /**
   * Rebuild the index in memory by a walk of the records (as openClosed does for an index it
   * cannot use), after a read found an entry pointing at the wrong bytes. The damaged file is
   * removed, so the next open rebuilds it too rather than trusting it again (the index of the
   * active segment is written from memory at roll and close anyway). False when the index was
   * already rebuilt and still disagrees, or the segment shrank meanwhile: the caller fails the read.
   */
  private rebuildIndex(why: string): Promise<boolean> {
    if (this.indexRebuilt) return Promise.resolve(false);
    this.indexRebuilding ??= (async () => {
      const size = this.bytes;
      const rebuilt = new OffsetIndex(this.index.path, this.baseOffset, this.index.intervalBytes);
      const walk = await this.walk({ expectedOffset: this.baseOffset, verifyCrc: false, onRecord: (pos, sz, off) => rebuilt.onRecord(off, pos, sz) });
      if (this.bytes < size) return false; // a truncation raced the walk: its entries may point past the data
      this.index.replaceEntries(rebuilt, walk.end, this.bytes);
      this.indexRebuilt = true;
      if (!this.deleted) await unlink(this.index.path).catch(() => undefined);
      this.log?.(`${this.index.path}: index rebuilt while reading (${why}), ${rebuilt.entries} entries; the damaged file was removed`);
      return true;
    })().finally(() => (this.indexRebuilding = undefined));
    return this.indexRebuilding;
  }

  /** Undefined when the index's last entry points at the record it names, else why not. */
  private async checkLastIndexEntry(): Promise<string | undefined> {
    const n = this.index.entries;
    if (n === 0) return undefined;
    const { offset, position } = this.index.entry(n - 1);
    const header = await this.readAt(position, 16);
    if (header.length < 16) return `last entry points at byte ${position}, past the data`;
    const size = header.readUInt32BE(0) + LENGTH_FIELD_BYTES;
    const found = recordOffsetAt(header, 0);
    if (found !== offset || position + size > this.bytes) return `last entry says offset ${offset} is at byte ${position}, the record there is offset ${found}`;
    return undefined;
  }

  /** For the last segment: undefined when its index file holds (a prefix of) the scanned index. */
  private async compareIndexFile(): Promise<string | undefined> {
    let buffer: Buffer;
    try {
      buffer = await readFile(this.index.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    const onDisk = OffsetIndex.fromBuffer(this.index.path, this.baseOffset, this.index.intervalBytes, buffer);
    if (typeof onDisk === 'string') return onDisk;
    if (!onDisk.isPrefixOf(this.index)) return 'entries disagree with the records';
    this.index.markPersisted(onDisk.entries);
    return undefined;
  }

  private async closeHandle(): Promise<void> {
    if (this.handleClosed) return;
    this.handleClosed = true;
    await this.file.close();
  }
}

function neededBytes(chunk: Buffer, at: number): number {
  return at + LENGTH_FIELD_BYTES > chunk.length ? LENGTH_FIELD_BYTES : LENGTH_FIELD_BYTES + chunk.readUInt32BE(at);
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

/**
 * One positional write of all chunks, synchronously; loops only if the kernel writes less than asked.
 * An append lands in the page cache in microseconds (fsync, the slow part, stays asynchronous),
 * while an asynchronous write costs a hand-off to libuv's thread pool and a wake-up of the event
 * loop afterwards, which cost the main thread more than the write itself: fs calls were 21% of a
 * leader's busy time in `npm run bench -- --profile`, and an append took ~1 ms before the records
 * could be replicated (now ~20 µs). Measured side by side: 17-25% less broker CPU per record.
 */
function writeFullySync(fd: number, chunks: readonly Buffer[], total: number, position: number, progress: { written: number }): void {
  const only = chunks.length === 1 ? chunks[0] : undefined;
  // Through the `fs` object (not bound imports), so tests can make a write fail as a full disk does.
  let written = only ? fs.writeSync(fd, only, 0, only.length, position) : fs.writevSync(fd, chunks as Buffer[], position);
  progress.written = written;
  if (written === total) return;
  const all = only ?? Buffer.concat(chunks as Buffer[], total);
  while (written < total) {
    const n = fs.writeSync(fd, all, written, total - written, position + written);
    if (n === 0) throw new Error(`short write: ${written} of ${total} bytes at position ${position}`);
    written += n;
    progress.written = written;
  }
}
