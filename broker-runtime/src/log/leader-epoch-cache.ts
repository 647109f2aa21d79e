import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { jsonChecksum } from './checkpoint-checksum.js';
import type { EpochEntry } from './types.js';

/** File name of the cache's checkpoint inside a partition folder, as in Kafka. */
export const EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
/**
 * The checkpoint's format: `{"version":2,"epochs":[{"epoch":..,"startOffset":..},..],"crc32":..}`,
 * one line, the checksum over JSON.stringify(epochs) (checkpoint-checksum.ts). Version 1 (no
 * checksum, written before it) is still read, and replaced at the next write. A flipped digit in an
 * unchecked entry passes every other check: an epoch start moved past the log end reads as
 * committed records lost (the partition stayed unclean until an offset no leader reached), one
 * moved inside a closed segment (not compared with the records after a clean stop) answers a
 * follower's divergence check with a wrong end offset for that epoch.
 */
const VERSION = 2;
const UNCHECKED_VERSION = 1;

/** Pure: the checkpoint's text for `entries`. */
export function epochCheckpointText(entries: readonly EpochEntry[]): string {
  const epochs = entries.map((e) => ({ epoch: e.epoch, startOffset: e.startOffset }));
  return JSON.stringify({ version: VERSION, epochs, crc32: jsonChecksum(epochs) }) + '\n';
}

/** Kafka's answer to OffsetsForLeaderEpoch: -1/-1 when the epoch is unknown. */
export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

/**
 * Where the log of a replica diverges from a leader's, as Kafka's LeaderEpochFileCache.endOffsetFor:
 * for `epoch`, the largest known epoch <= it and the offset where the next epoch began (the log end
 * for the latest epoch). A follower truncates to this before fetching.
 */
export function endOffsetForEpoch(entries: readonly EpochEntry[], epoch: number, logEndOffset: number): EpochEndOffset {
  const latest = entries[entries.length - 1];
  if (epoch < 0 || latest === undefined) return { epoch: -1, endOffset: -1 };
  if (epoch === latest.epoch) return { epoch, endOffset: logEndOffset };
  const higher = entries.findIndex((e) => e.epoch > epoch);
  if (higher < 0) return { epoch: -1, endOffset: -1 };
  const floor = entries[higher - 1];
  return { epoch: floor ? floor.epoch : epoch, endOffset: entries[higher]!.startOffset };
}

/**
 * The epoch that wrote the record at `offset`: that of the last entry starting at or before it
 * (-1 before the first entry). Entries are sorted by startOffset, as the cache keeps them. The one
 * definition: the cache, recovery and replication's divergence checks all ask this.
 */
export function epochAt(entries: readonly EpochEntry[], offset: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const e = entries[mid]!;
    if (e.startOffset <= offset) {
      found = e.epoch;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * Entries sorted and strictly increasing in both epoch and start offset, else a reason. A checksum,
 * when there is one (always in version 2), must match the epochs list as written: a reason starting
 * with `damaged` when it does not.
 */
export function checkEntries(value: unknown): EpochEntry[] | string {
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const { version, epochs, crc32 } = value as { version?: unknown; epochs?: unknown; crc32?: unknown };
  if (version !== VERSION && version !== UNCHECKED_VERSION) return `unknown version ${String(version)}`;
  if (version === VERSION && crc32 === undefined) return 'damaged: version 2 without its checksum';
  if (!Array.isArray(epochs)) return 'no epochs list';
  if (crc32 !== undefined && crc32 !== jsonChecksum(epochs)) return `damaged: its checksum fails (crc32 ${JSON.stringify(crc32)}, the epochs list gives ${jsonChecksum(epochs)})`;
  const out: EpochEntry[] = [];
  for (const e of epochs as unknown[]) {
    const { epoch, startOffset } = (e ?? {}) as { epoch?: unknown; startOffset?: unknown };
    if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset) || (epoch as number) < 0 || (startOffset as number) < 0) return `bad entry ${JSON.stringify(e)}`;
    const prev = out[out.length - 1];
    if (prev && (prev.epoch >= (epoch as number) || prev.startOffset >= (startOffset as number))) return `entries do not increase at epoch ${String(epoch)}`;
    out.push({ epoch: epoch as number, startOffset: startOffset as number });
  }
  return out;
}

/**
 * The leader-epoch cache (Kafka's LeaderEpochFileCache): which epoch started writing at which offset,
 * oldest first. Changed only by the partition log, which persists it after each change.
 */
export class LeaderEpochCache {
  private list: EpochEntry[];

  constructor(
    readonly path: string,
    entries: readonly EpochEntry[] = [],
  ) {
    this.list = entries.map((e) => ({ ...e }));
  }

  /** The checkpoint in `dir`, or the reason it cannot be used (missing, unreadable, inconsistent). */
  static async load(dir: string): Promise<LeaderEpochCache | string> {
    const path = join(dir, EPOCH_CHECKPOINT_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return 'not valid JSON';
    }
    const entries = checkEntries(parsed);
    return typeof entries === 'string' ? entries : new LeaderEpochCache(path, entries);
  }

  entries(): EpochEntry[] {
    return this.list.map((e) => ({ ...e }));
  }

  /** The newest epoch, or -1 when there is none. */
  latestEpoch(): number {
    return this.list[this.list.length - 1]?.epoch ?? -1;
  }

  /**
   * Record that `epoch` wrote its first record at `startOffset`. Returns whether anything changed
   * (the same epoch again changes nothing). An older epoch, or an offset before the newest entry's,
   * is a caller bug and throws.
   */
  assign(epoch: number, startOffset: number): boolean {
    const latest = this.list[this.list.length - 1];
    if (latest) {
      if (epoch === latest.epoch) return false;
      if (epoch < latest.epoch) throw new RangeError(`epoch ${epoch} is older than the latest epoch ${latest.epoch}`);
      if (startOffset < latest.startOffset) throw new RangeError(`epoch ${epoch} cannot start at ${startOffset}, before epoch ${latest.epoch} (at ${latest.startOffset})`);
      if (startOffset === latest.startOffset) this.list.pop(); // the older epoch never wrote a record
    }
    this.list.push({ epoch, startOffset });
    return true;
  }

  /** Drop entries starting at or after `endOffset` (the log was truncated there). Returns whether any were. */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.list.length;
    while (this.list.length > 0 && this.list[this.list.length - 1]!.startOffset >= endOffset) this.list.pop();
    return this.list.length !== before;
  }

  /** See endOffsetForEpoch. */
  endOffsetFor(epoch: number, logEndOffset: number): EpochEndOffset {
    return endOffsetForEpoch(this.list, epoch, logEndOffset);
  }

  /** The epoch that wrote `offset` (-1 before the first entry). */
  epochAt(offset: number): number {
    return epochAt(this.list, offset);
  }

  /**
   * Write the checkpoint (temp file, fsync, rename, fsync of the folder). `syncFolder` false leaves
   * the rename to the folder's next fsync: for a checkpoint that may lag behind the records (the
   * loader adds the epochs the last segment shows), not one that must shrink (a truncation).
   */
  async persist(syncFolder = true): Promise<void> {
    await writeFileAtomic(this.path, epochCheckpointText(this.list), true, syncFolder);
  }
}

/** What the open of a partition log knows about its records, for reconcileEpochCache. */
export interface EpochEvidence {
  logEndOffset: number;
  /** Base offset of the last segment, which the open scanned record by record. */
  lastSegmentBase: number;
  /** The epoch of the last segment's first record and every later change. */
  lastSegmentEpochs: readonly EpochEntry[];
  /** The same for every earlier segment, in order: read only if the checkpoint cannot be used. */
  olderSegmentEpochs: () => Promise<EpochEntry[][]>;
  /**
   * The same for every earlier segment when the open already read all their records (the
   * integrity check after a stop that was not clean), with the first segment's base: then the
   * checkpoint is held against every record, not only the last segment's.
   */
  scannedOlder?: { firstSegmentBase: number; epochs: readonly EpochEntry[][] };
}

/**
 * Load the cache of a partition folder and make it agree with the records: drop entries at or past
 * the log end, add epochs the last segment shows but the checkpoint missed (a crash between a write
 * and its checkpoint); when the file is missing, unreadable or still disagrees with the last
 * segment, rebuild it from the records' epochs. Persists whatever it changed.
 */
export async function reconcileEpochCache(dir: string, evidence: EpochEvidence, log: (line: string) => void, alreadyLoaded?: LeaderEpochCache | string, warn: (line: string) => void = log): Promise<LeaderEpochCache> {
  const loaded = alreadyLoaded ?? (await LeaderEpochCache.load(dir));
  if (loaded instanceof LeaderEpochCache) {
    let changed = loaded.truncateFromEnd(evidence.logEndOffset);
    try {
      for (const e of evidence.lastSegmentEpochs) if (e.epoch > loaded.latestEpoch()) changed = loaded.assign(e.epoch, e.startOffset) || changed;
      if (agreesWithLastSegment(loaded, evidence) && agreesWithOlderSegments(loaded, evidence)) {
        if (changed) await loaded.persist();
        return loaded;
      }
    } catch {
      // an assign refused: the checkpoint contradicts the records; rebuilt below
    }
  }
  const rebuilt = new LeaderEpochCache(join(dir, EPOCH_CHECKPOINT_FILE));
  const older = evidence.scannedOlder?.epochs ?? (await evidence.olderSegmentEpochs());
  for (const changes of [...older, evidence.lastSegmentEpochs]) {
    for (const e of changes) if (e.epoch > rebuilt.latestEpoch()) rebuilt.assign(e.epoch, e.startOffset);
  }
  const fresh = loaded === 'missing' && rebuilt.latestEpoch() < 0;
  // A missing checkpoint reads as this same empty cache: writing it would cost an fsync per new partition.
  if (!fresh) await rebuilt.persist();
  if (typeof loaded === 'string' && loaded !== 'missing') warn(`${rebuilt.path} is ${loaded.startsWith('damaged') ? '' : 'unusable, '}${loaded}: ignored, the leader-epoch cache is rebuilt from the records' epochs: ${JSON.stringify(rebuilt.entries())}`);
  else if (!fresh) log(`leader-epoch cache rebuilt from the records (${typeof loaded === 'string' ? loaded : 'it disagreed with them'}): ${JSON.stringify(rebuilt.entries())}`);
  return rebuilt;
}

/**
 * The same as agreesWithLastSegment for the closed segments, when their records were read: a
 * checkpoint entry there that the records contradict (an epoch moved to another offset, one
 * missing or invented) would answer a follower's divergence check wrongly — an epoch's end offset
 * past where that epoch really ended lets a follower keep records the leader does not have.
 */
function agreesWithOlderSegments(cache: LeaderEpochCache, evidence: EpochEvidence): boolean {
  const scanned = evidence.scannedOlder;
  if (!scanned) return true;
  const seen = scanned.epochs.flat();
  if (seen.some((e) => cache.epochAt(e.startOffset) !== e.epoch)) return false;
  return cache.entries().every((e) => e.startOffset < scanned.firstSegmentBase || e.startOffset >= evidence.lastSegmentBase || seen.some((x) => x.startOffset === e.startOffset));
}

/** Every epoch change the last segment shows is in the cache, and the cache starts no epoch inside it that the records do not. */
function agreesWithLastSegment(cache: LeaderEpochCache, evidence: EpochEvidence): boolean {
  const seen = evidence.lastSegmentEpochs;
  if (seen.some((e) => cache.epochAt(e.startOffset) !== e.epoch)) return false;
  return cache.entries().every((e) => e.startOffset < evidence.lastSegmentBase || e.startOffset >= evidence.logEndOffset || seen.some((x) => x.startOffset === e.startOffset));
}
