import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './atomic-file.js';
import { readHighWatermarkCheckpoint, type HighWatermarkCheckpoint } from './high-watermark.js';
import { segmentFileName } from './log-segment.js';
import { scanSegmentFile, type SegmentScan } from './segment-scan.js';
import type { EpochEntry } from './types.js';
import { UncleanMarker } from './unclean-marker.js';

export interface IntegrityResult {
  marker: UncleanMarker;
  /** Bytes removed here: the damaged rest of a closed segment and every segment after it. */
  cutBytes: number;
  /** The segment base offsets left. */
  bases: number[];
  /** Where the log ends once recovery has cut any damage or torn tail: one past the last good record left. */
  logEnd: number;
  /**
   * The epoch changes the records of each segment left in `bases` show, read by this check: null
   * when it did not read every record of every closed segment (after a clean shutdown they are
   * trusted unread). The last segment's are read again by its recovery.
   */
  closedSegmentEpochs: EpochEntry[][] | null;
}

interface Damage {
  index: number;
  position: number;
  offset: number;
  why: string;
}

/**
 * Before recovery proper: check every record of every segment. Recovery used to scan only the last
 * segment and cut at its first bad record — right for a write torn by a crash, but a bit flipped in
 * the middle of committed data was then cut away silently, with every committed record after it,
 * and the replica could still win an election. Damage counts as more than a torn tail when
 *
 *  - it is in a closed segment (those were fsynced before the roll: no crash tears them), or
 *  - records with a good CRC follow it in the last segment (a torn write is always the end), or
 *  - the bad record lies below the checkpointed high-water mark (it was committed), or that
 *    checkpoint is damaged (nothing says it was not committed: a needless re-fetch at worst).
 *
 * After a clean shutdown (`trustClosed`) closed segments are trusted unread, as Kafka does: only
 * the last segment is checked.
 *
 * Then the partition is marked unclean (durably, first), the log is cut before the damage (a closed
 * segment here, the last one by LogSegment.recover as before) and the replica re-fetches from the
 * leader; the mark is lifted once it has the records again. A torn tail stays what it was.
 */
export async function checkIntegrity(
  dir: string,
  bases: readonly number[],
  log: (line: string) => void,
  trustClosed = false,
  knownHighWatermark?: HighWatermarkCheckpoint,
  warn: (line: string) => void = log,
): Promise<IntegrityResult> {
  const checkpoint = knownHighWatermark ?? (await readHighWatermarkCheckpoint(dir, () => {}));
  const highWatermarkCheckpoint = checkpoint.value;
  const scans: SegmentScan[] = [];
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i]!;
    const next = bases[i + 1];
    scans.push(trustClosed && next !== undefined ? trustedScan(base, next) : await scanSegmentFile(join(dir, segmentFileName(base, '.log')), base));
  }

  let damage: Damage | undefined;
  let seenEnd = 0;
  scans.forEach((s, i) => {
    seenEnd = Math.max(seenEnd, s.endOffset);
    damage ??= damageIn(s, i, bases, checkpoint);
  });
  const cleanEnd = damage?.offset ?? scans[scans.length - 1]?.cleanEndOffset ?? 0;
  // A mark that cannot be read keeps the partition unclean up to everything known committed too.
  const marker = await UncleanMarker.load(dir, Math.max(cleanEnd + 1, highWatermarkCheckpoint), log, warn);
  // Closed segments left: those before the damage's (that one is cut and becomes the last).
  const closedLeft = damage && damage.index < bases.length - 1 ? damage.index : Math.max(0, bases.length - 1);
  const closedSegmentEpochs = trustClosed ? null : scans.slice(0, closedLeft).map((s) => s.epochs);
  if (!damage) return { marker, cutBytes: 0, bases: [...bases], logEnd: cleanEnd, closedSegmentEpochs };

  const until = Math.max(highWatermarkCheckpoint, damage.offset + 1, seenEnd);
  log(`UNCLEAN: ${damage.why}; cutting the log at offset ${damage.offset} and keeping this replica from leading until it has re-fetched up to offset ${until} from the leader`);
  await marker.set(damage.offset, until, damage.why);
  if (damage.index === bases.length - 1) return { marker, cutBytes: 0, bases: [...bases], logEnd: cleanEnd, closedSegmentEpochs };

  let cutBytes = 0;
  for (let j = bases.length - 1; j > damage.index; j--) {
    await unlink(join(dir, segmentFileName(bases[j]!, '.log')));
    await unlink(join(dir, segmentFileName(bases[j]!, '.index'))).catch(() => undefined);
    cutBytes += scans[j]!.size;
  }
  const handle = await open(join(dir, segmentFileName(bases[damage.index]!, '.log')), 'r+');
  try {
    await handle.truncate(damage.position);
    await handle.sync();
  } finally {
    await handle.close();
  }
  cutBytes += scans[damage.index]!.size - damage.position;
  await fsyncDir(dir);
  return { marker, cutBytes, bases: bases.slice(0, damage.index + 1), logEnd: cleanEnd, closedSegmentEpochs };
}

/**
 * A closed segment after a clean shutdown, taken as whole without reading it: it was fsynced
 * before the roll and no crash happened since. Only its size is unknown (0): it is needed only
 * to count the bytes of segments cut *after* damage, and damage can then only be in the last one.
 */
function trustedScan(base: number, next: number): SegmentScan {
  return { size: 0, validAfterFault: false, endOffset: next, cleanEndOffset: next, epochs: [] };
}

function damageIn(s: SegmentScan, i: number, bases: readonly number[], checkpoint: HighWatermarkCheckpoint): Damage | undefined {
  const next = bases[i + 1];
  const f = s.fault;
  if (next !== undefined) {
    if (f) return { index: i, position: f.position, offset: f.offset, why: `record ${f.offset} in closed segment ${bases[i]} fails its ${f.stop} check` };
    if (s.cleanEndOffset !== next) return { index: i, position: s.size, offset: s.cleanEndOffset, why: `closed segment ${bases[i]} ends at offset ${s.cleanEndOffset} but the next one starts at ${next}` };
    return undefined;
  }
  if (!f) return undefined;
  if (s.validAfterFault) return { index: i, position: f.position, offset: f.offset, why: `record ${f.offset} fails its ${f.stop} check and valid records follow it (up to offset ${s.endOffset - 1})` };
  if (f.offset < checkpoint.value) return { index: i, position: f.position, offset: f.offset, why: `record ${f.offset}, below the checkpointed high-water mark ${checkpoint.value}, fails its ${f.stop} check` };
  if (checkpoint.form === 'damaged') return { index: i, position: f.position, offset: f.offset, why: `record ${f.offset} fails its ${f.stop} check and the high-water mark checkpoint is damaged (it may have been committed)` };
  return undefined;
}
