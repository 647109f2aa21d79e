import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/**
 * The log start offset of a partition (Kafka's logStartOffset): records below it were deleted on
 * purpose (retention, or a follower starting its log at the leader's log start), so a read below
 * it answers OFFSET_OUT_OF_RANGE and a missing segment below it is not data loss.
 *
 * It is checkpointed in this file (decimal text with a checksum, replaced atomically) *before* any segment below
 * it is deleted: a crash in between leaves segments that the next open deletes
 * (segmentsBelowLogStart), never a gap that the integrity check would read as damage.
 */
export const LOG_START_FILE = 'log-start-offset';

/**
 * The checkpoint's text: `v1 <offset> <crc32 of the offset's digits>`. Unlike the other
 * checkpoints, this one is acted on at open — segments wholly below it are deleted, and a log that
 * ends at or below it is emptied (log-loader.ts) — so a damaged value must not be taken for one
 * written on purpose: a flipped digit in a bare number (`120` read as `920`, or as `1200000`)
 * deleted committed segments, or emptied the whole partition, which then looked clean and could
 * lead. The checksum tells a damaged file from a written one. A bare number (written before the
 * checksum) is still read as it is; the next change of the log start writes the checked form.
 */
const CHECKED = /^v1 (\d{1,16}) (\d{1,10})$/;

function checksum(value: number): number {
  return crc32(String(value));
}

/** The checkpointed log start offset of the partition in `dir` (0 when none: a log from before retention starts at 0). */
export async function readLogStart(dir: string, log: (line: string) => void): Promise<number> {
  let text: string;
  try {
    text = await readFile(join(dir, LOG_START_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const trimmed = text.trim();
  const checked = CHECKED.exec(trimmed);
  let value = Number.NaN;
  if (checked) {
    const v = Number(checked[1]);
    if (checksum(v) === Number(checked[2])) value = v;
  } else if (/^\d{1,16}$/.test(trimmed)) {
    value = Number(trimmed);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    // 0 keeps every segment there is: the safe reading of an unreadable or damaged checkpoint.
    log(`ignoring unreadable or damaged log start offset checkpoint ${JSON.stringify(text.slice(0, 40))}: keeping every segment`);
    return 0;
  }
  return value;
}

/** Replace the checkpoint (write-temp + rename; fsynced when `durable`). */
export async function writeLogStart(dir: string, value: number, durable: boolean): Promise<void> {
  await writeFileAtomic(join(dir, LOG_START_FILE), `v1 ${value} ${checksum(value)}\n`, durable);
}

/**
 * Segment base offsets (sorted) of segments wholly below `logStart`: those the next segment starts
 * at or before. The last segment is never among them (its end is unknown until it is scanned).
 */
export function segmentsBelowLogStart(bases: readonly number[], logStart: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < bases.length && bases[i + 1]! <= logStart; i++) out.push(bases[i]!);
  return out;
}

/** What open() makes of the checkpoint and the segments recovery left. */
export type LogStartAtOpen =
  /** The log start offset is `logStart`. */
  | { kind: 'ok'; logStart: number }
  /** Every record left is below the checkpoint (a follower's restart at the leader's log start was interrupted): finish it. */
  | { kind: 'restart'; logStart: number }
  /** The first segment starts above the checkpoint: records [checkpoint, firstBase) are gone, and not by retention. */
  | { kind: 'missing-front'; logStart: number; lostFrom: number };

/** Pure: the log start offset at open from the checkpoint, the first segment's base and the log end. */
export function logStartAtOpen(checkpoint: number, firstBase: number, logEnd: number): LogStartAtOpen {
  if (firstBase > checkpoint) return { kind: 'missing-front', logStart: firstBase, lostFrom: checkpoint };
  if (checkpoint > firstBase && logEnd <= checkpoint) return { kind: 'restart', logStart: checkpoint };
  return { kind: 'ok', logStart: checkpoint };
}
