import { open, readFile, truncate } from 'node:fs/promises';

/** One entry on disk: u32 offset relative to the segment's base, u32 byte position in the segment. */
export const INDEX_ENTRY_BYTES = 8;
const U32_MAX = 2 ** 32 - 1;

/**
 * A segment's sparse offset index (Kafka's OffsetIndex): an entry every `intervalBytes` of records,
 * so a read finds the file position to start scanning from without reading the segment.
 * Held in memory as typed arrays; the file is written when the segment is closed or rolled
 * (the active segment's index is rebuilt by the recovery scan at open anyway).
 */
export class OffsetIndex {
  private relOffsets = new Uint32Array(64);
  private positions = new Uint32Array(64);
  private count = 0;
  /** Entries known to be in the file exactly as in memory. */
  private persisted = 0;
  /** The file is known to exist holding the first `persisted` entries (read at open, or written). */
  private fileKnown = false;
  private bytesSinceLastEntry = 0;

  constructor(
    readonly path: string,
    readonly baseOffset: number,
    readonly intervalBytes: number,
  ) {}

  get entries(): number {
    return this.count;
  }

  /** The i-th entry as absolute offset and position. */
  entry(i: number): { offset: number; position: number } {
    if (i < 0 || i >= this.count) throw new RangeError(`index entry ${i} of ${this.count}`);
    return { offset: this.baseOffset + this.relOffsets[i]!, position: this.positions[i]! };
  }

  /** Account for one appended record (in order); adds an entry once intervalBytes have passed since the last. */
  onRecord(offset: number, position: number, size: number): void {
    if (this.bytesSinceLastEntry >= this.intervalBytes && position > 0) {
      this.add(offset - this.baseOffset, position);
      this.bytesSinceLastEntry = 0;
    }
    this.bytesSinceLastEntry += size;
  }

  /** Byte position to start scanning from for `offset`: the last entry at or below it, else 0. */
  lookup(offset: number): number {
    return this.lookupEntry(offset).position;
  }

  /**
   * The last entry at or below `offset` (where a scan for it starts), or the segment's start when
   * there is none: the offset the record at that position must have, so a reader can tell an entry
   * that points at the wrong bytes (a damaged index file) from the record it names.
   */
  lookupEntry(offset: number): { offset: number; position: number } {
    const rel = offset - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relOffsets[mid]! <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? { offset: this.baseOffset, position: 0 } : { offset: this.baseOffset + this.relOffsets[found]!, position: this.positions[found]! };
  }

  /**
   * Take the entries of `rebuilt` (an index built by scanning the segment's first `scannedBytes`),
   * keeping this index's own entries from `scannedBytes` on (records appended during the scan).
   * The file no longer matches memory: it is rewritten at the next write().
   */
  replaceEntries(rebuilt: OffsetIndex, scannedBytes: number, segmentSize: number): void {
    const tail: [number, number][] = [];
    const lastRel = rebuilt.count > 0 ? rebuilt.relOffsets[rebuilt.count - 1]! : -1;
    for (let i = 0; i < this.count; i++) {
      if (this.positions[i]! >= scannedBytes && this.relOffsets[i]! > lastRel) tail.push([this.relOffsets[i]!, this.positions[i]!]);
    }
    this.count = 0;
    for (let i = 0; i < rebuilt.count; i++) this.add(rebuilt.relOffsets[i]!, rebuilt.positions[i]!);
    for (const [rel, pos] of tail) this.add(rel, pos);
    this.persisted = 0;
    this.fileKnown = false;
    this.resume(segmentSize);
  }

  /** Drop entries for offsets >= `offset`; the segment now ends at `segmentSize`. Shortens the file too. */
  async truncateTo(offset: number, segmentSize: number): Promise<void> {
    const keep = this.forget(offset, segmentSize);
    if (this.persisted > keep) {
      await truncate(this.path, keep * INDEX_ENTRY_BYTES);
      this.persisted = keep;
    }
  }

  /** Drop entries for `offset` and later (or at `segmentSize` and past) in memory only; returns how many are kept. */
  forget(offset: number, segmentSize: number): number {
    const rel = offset - this.baseOffset;
    let keep = this.count;
    while (keep > 0 && (this.relOffsets[keep - 1]! >= rel || this.positions[keep - 1]! >= segmentSize)) keep--;
    this.count = keep;
    this.resume(segmentSize);
    return keep;
  }

  /** Set the byte counter after a load or truncation, for appends that follow. */
  resume(segmentSize: number): void {
    this.bytesSinceLastEntry = segmentSize - (this.count > 0 ? this.positions[this.count - 1]! : 0);
  }

  /** The entries in file format. */
  toBuffer(): Buffer {
    const buffer = Buffer.allocUnsafe(this.count * INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.count; i++) {
      buffer.writeUInt32BE(this.relOffsets[i]!, i * INDEX_ENTRY_BYTES);
      buffer.writeUInt32BE(this.positions[i]!, i * INDEX_ENTRY_BYTES + 4);
    }
    return buffer;
  }

  /** Replace the file with the in-memory entries (fsynced when `durable`). */
  async write(durable: boolean): Promise<void> {
    // Nothing new: no rewrite (a clean stop of 10,000 partitions would fsync 10,000 unchanged files).
    if (this.persisted === this.count && this.fileKnown) return;
    const handle = await open(this.path, 'w');
    try {
      await handle.writeFile(this.toBuffer());
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    this.persisted = this.count;
    this.fileKnown = true;
  }

  /**
   * Load the index file of a segment of `segmentSize` bytes whose records end before `endOffset`.
   * Returns a reason instead when the file is missing or cannot be right (odd size, not increasing,
   * pointing past the segment).
   */
  static async load(path: string, baseOffset: number, intervalBytes: number, segmentSize: number, endOffset: number): Promise<OffsetIndex | string> {
    let buffer: Buffer;
    try {
      buffer = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    const index = OffsetIndex.fromBuffer(path, baseOffset, intervalBytes, buffer);
    if (typeof index === 'string') return index;
    const n = index.count;
    if (n > 0) {
      const last = index.entry(n - 1);
      if (last.position >= segmentSize) return `last entry points at byte ${last.position}, past the segment's ${segmentSize} bytes`;
      if (last.offset >= endOffset) return `last entry is for offset ${last.offset}, at or past the segment's end offset ${endOffset}`;
    }
    index.persisted = n;
    index.fileKnown = true;
    index.resume(segmentSize);
    return index;
  }

  /** Parse file content; a reason string when it is not a strictly increasing list of entries. */
  static fromBuffer(path: string, baseOffset: number, intervalBytes: number, buffer: Buffer): OffsetIndex | string {
    if (buffer.length % INDEX_ENTRY_BYTES !== 0) return `size ${buffer.length} is not a multiple of ${INDEX_ENTRY_BYTES}`;
    const index = new OffsetIndex(path, baseOffset, intervalBytes);
    let prevRel = 0;
    let prevPos = 0;
    for (let at = 0; at < buffer.length; at += INDEX_ENTRY_BYTES) {
      const rel = buffer.readUInt32BE(at);
      const pos = buffer.readUInt32BE(at + 4);
      if (rel <= prevRel || pos <= prevPos) return `entry ${at / INDEX_ENTRY_BYTES} (${rel} @ ${pos}) does not increase`;
      index.add(rel, pos);
      prevRel = rel;
      prevPos = pos;
    }
    return index;
  }

  /** Whether this index's entries are the first entries of `other` (a file that lagged behind). */
  isPrefixOf(other: OffsetIndex): boolean {
    if (this.count > other.count) return false;
    for (let i = 0; i < this.count; i++) {
      if (other.relOffsets[i] !== this.relOffsets[i] || other.positions[i] !== this.positions[i]) return false;
    }
    return true;
  }

  /** Mark the file as holding the first `entries` entries exactly as in memory. */
  markPersisted(entries = this.count): void {
    this.persisted = Math.min(entries, this.count);
    this.fileKnown = true;
  }

  private add(rel: number, position: number): void {
    if (rel > U32_MAX || position > U32_MAX) throw new RangeError(`index entry ${rel} @ ${position} does not fit in 32 bits`);
    if (this.count === this.relOffsets.length) {
      const relOffsets = new Uint32Array(this.count * 2);
      const positions = new Uint32Array(this.count * 2);
      relOffsets.set(this.relOffsets);
      positions.set(this.positions);
      this.relOffsets = relOffsets;
      this.positions = positions;
    }
    this.relOffsets[this.count] = rel;
    this.positions[this.count] = position;
    this.count++;
  }
}
