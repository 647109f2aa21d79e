import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { checkedNumberText, parseCheckedNumber } from './checkpoint-checksum.js';

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

/*
 * The checkpoint's text: `v1 <offset> <crc32 of the offset's digits>` (checkpoint-checksum.ts).
 * It is acted on at open — segments wholly below it are deleted, and a log that
 * ends at or below it is emptied (log-loader.ts) — so a damaged value must not be taken for one
 * written on purpose: a flipped digit in a bare number (`120` read as `920`, or as `1200000`)
 * deleted committed segments, or emptied the whole partition, which then looked clean and could
 * lead. The checksum tells a damaged file from a written one. A bare number (written before the
 * checksum) is taken at open only where the segments agree with it (bareLogStartAtOpen), and
 * rewritten there in the checked form.
 */

/** The checkpointed log start offset of the partition in `dir` (0 when none: a log from before retention starts at 0). */
export async function readLogStart(dir: string, log: (line: string) => void): Promise<number> {
  return (await readLogStartCheckpoint(dir, log)).value;
}

/**
 * The checkpoint and its form: `checked` (v1, its checksum matched), `bare` (a number written
 * before the checksum existed: nothing tells a damaged one from a written one, so open() acts on it
 * only where the segments agree: bareLogStartAtOpen) or `none` (no file, or an unreadable or
 * damaged one: 0, which keeps every segment).
 */
export async function readLogStartCheckpoint(dir: string, log: (line: string) => void): Promise<{ value: number; form: 'checked' | 'bare' | 'none' }> {
  let text: string;
  try {
    text = await readFile(join(dir, LOG_START_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { value: 0, form: 'none' };
    throw err;
  }
  const parsed = parseCheckedNumber(text);
  if (parsed.form === 'damaged') {
    // 0 keeps every segment there is: the safe reading of an unreadable or damaged checkpoint.
    log(`${join(dir, LOG_START_FILE)} is damaged or unreadable (${JSON.stringify(text.slice(0, 40))}): ignored, keeping every segment`);
    return { value: 0, form: 'none' };
  }
  return { value: parsed.value, form: parsed.form };
}

/**
 * What open() takes from a bare checkpoint (no checksum: written before it existed, or damaged —
 * nothing tells which): never a reason to delete or empty anything by itself. It is taken only
 * where the segments agree with it: at or below the first segment's base (a first segment above it
 * is then reported missing, as for a checked one), or inside the first segment — never with whole
 * segments below it (they would be deleted) nor at or past the log end (the log would be emptied).
 * Otherwise the log starts at its first segment and every segment stays. open() then rewrites the
 * checkpoint in the checked form, so the value it settled on is the one trusted from then on.
 */
export function bareLogStartAtOpen(value: number, bases: readonly number[], logEnd: number): { logStart: number; trusted: boolean } {
  const firstBase = bases[0] ?? 0;
  if (value <= firstBase) return { logStart: value, trusted: true };
  if (value < logEnd && segmentsBelowLogStart(bases, value).length === 0) return { logStart: value, trusted: true };
  return { logStart: firstBase, trusted: false };
}

/** Replace the checkpoint (write-temp + rename; fsynced when `durable`). */
export async function writeLogStart(dir: string, value: number, durable: boolean): Promise<void> {
  await writeFileAtomic(join(dir, LOG_START_FILE), checkedNumberText(value), durable);
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
