import type { EpochEntry } from '../../broker-runtime/src/log/types.js';
import type { SimIsr } from './redis.js';

/** One record: its offset, the epoch of the leader that first appended it, and a unique value. */
export interface Entry {
  offset: number;
  epoch: number;
  value: string;
}

/**
 * A partition's files. `entries` is what the OS holds (written, maybe not fsynced): a process crash
 * loses none of it, as with --fsync interval. `flushedLen` is the fsynced prefix: a power loss
 * keeps only that. The high-water mark is checkpointed only when flushed, as the real log does.
 */
export class DiskPartition {
  entries: Entry[] = [];
  flushedLen = 0;
  hwmCheckpoint = 0;
}

/** A node's data folder: its partitions and broker-state.json (the highest epoch seen, fsynced on every write). */
export class Disk {
  readonly parts: DiskPartition[];
  highestEpoch = 0;
  /** The newest in-sync set this broker has seen or is about to write (only with the safe-recovery fix). */
  lastIsr: SimIsr | null = null;

  constructor(partitions: number) {
    this.parts = Array.from({ length: partitions }, () => new DiskPartition());
  }

  /** The periodic fsync: every partition's records, then its high-water mark checkpoint. */
  flush(hwms: number[]): void {
    this.parts.forEach((p, i) => {
      p.flushedLen = p.entries.length;
      p.hwmCheckpoint = Math.min(hwms[i] ?? p.hwmCheckpoint, p.entries.length);
    });
  }

  /** Power loss: whatever was not fsynced is gone. Returns, per partition, the records lost. */
  powerLoss(): Entry[][] {
    return this.parts.map((p) => {
      const lost = p.entries.slice(p.flushedLen);
      p.entries.length = p.flushedLen;
      p.hwmCheckpoint = Math.min(p.hwmCheckpoint, p.flushedLen);
      return lost;
    });
  }
}

/**
 * The open log of one partition (the PartitionLog the real broker uses, reduced to what the
 * decisions need): records on the disk, the high-water mark in memory, the leader-epoch cache.
 */
export class SimLog {
  private hwm: number;
  private cache: EpochEntry[] = [];
  /** Set when an append would make the epochs in the log go down (the real epoch cache refuses that). */
  epochRegression: string | null = null;
  /** Lowest offset cut since the checker last looked, and whether a cut went below the high-water mark. */
  cutFrom: number | null = null;
  cutBelowHwm: { offset: number; hwm: number; cut: Entry[] } | null = null;

  constructor(
    readonly partition: number,
    private readonly disk: DiskPartition,
  ) {
    for (const e of disk.entries) this.track(e);
    // Restart: the checkpoint, clamped to the log end (readHighWatermark).
    this.hwm = Math.min(disk.hwmCheckpoint, disk.entries.length);
  }

  logEndOffset(): number {
    return this.disk.entries.length;
  }

  highWatermark(): number {
    return this.hwm;
  }

  setHighWatermark(offset: number): void {
    const clamped = Math.min(offset, this.logEndOffset());
    if (clamped > this.hwm) this.hwm = clamped;
  }

  /** Leader path: assign offsets from the log end, with this epoch. */
  append(values: string[], epoch: number): { baseOffset: number; lastOffset: number } {
    const base = this.logEndOffset();
    values.forEach((value, i) => this.push({ offset: base + i, epoch, value }));
    return { baseOffset: base, lastOffset: base + values.length - 1 };
  }

  /** Follower path: the leader's records, which must continue this log exactly. */
  appendRaw(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    if (entries[0]!.offset !== this.logEndOffset()) throw new Error(`records start at ${entries[0]!.offset}, log ends at ${this.logEndOffset()}`);
    // partition-log.ts refuses a batch whose epoch is older than the log's last one.
    if (entries[0]!.epoch < this.lastEpoch()) throw new Error(`batch epoch ${entries[0]!.epoch} is older than the log's last epoch ${this.lastEpoch()}`);
    for (const e of entries) this.push(e);
  }

  read(from: number, max: number): Entry[] {
    return this.disk.entries.slice(from, from + max);
  }

  entry(offset: number): Entry | undefined {
    return this.disk.entries[offset];
  }

  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset()) return;
    this.cutFrom = Math.min(this.cutFrom ?? offset, offset);
    if (offset < this.hwm) this.cutBelowHwm ??= { offset, hwm: this.hwm, cut: this.disk.entries.slice(offset, this.hwm) };
    this.disk.entries.length = offset;
    this.disk.flushedLen = Math.min(this.disk.flushedLen, offset);
    while (this.cache.length > 0 && this.cache[this.cache.length - 1]!.startOffset >= offset) this.cache.pop();
    if (this.hwm > offset) this.hwm = offset;
  }

  epochs(): EpochEntry[] {
    return this.cache.map((e) => ({ ...e }));
  }

  lastEpoch(): number {
    return this.cache.length > 0 ? this.cache[this.cache.length - 1]!.epoch : -1;
  }

  private push(e: Entry): void {
    this.disk.entries.push(e);
    this.track(e);
  }

  private track(e: Entry): void {
    const last = this.cache[this.cache.length - 1];
    if (!last || e.epoch > last.epoch) this.cache.push({ epoch: e.epoch, startOffset: e.offset });
    else if (e.epoch < last.epoch) this.epochRegression ??= `p${this.partition}@${e.offset}: epoch ${e.epoch} after ${last.epoch}`;
  }
}
