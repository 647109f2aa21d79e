import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { checkedNumberText, parseCheckedNumber } from './checkpoint-checksum.js';

/**
 * File in a partition folder holding the last checkpointed high-water mark: `v1 <offset> <crc32 of
 * the offset's digits>` (checkpoint-checksum.ts), or a bare decimal number (the format before the
 * checksum, still read; the next write replaces it).
 */
export const HIGH_WATERMARK_FILE = 'high-watermark';

/**
 * The checkpoint as read: `checked` or `bare` (see NumberCheckpoint), `none` (no file) or
 * `damaged` (its checksum fails, or it is no number). A damaged one reads as 0 — the high-water
 * mark then re-advances from the log start, as the leader's is learnt again — never as the value
 * it shows: a flipped digit making it larger is past the log end (read as committed records lost:
 * the partition stayed unclean until an offset no leader ever reached) or inside it (records no
 * in-sync replica may hold shown to consumers and counted as committed).
 */
export interface HighWatermarkCheckpoint {
  value: number;
  form: 'checked' | 'bare' | 'none' | 'damaged';
}

/**
 * The checkpointed high-water mark of the partition in `dir` as written (0 when missing or
 * damaged). Not clamped: a value past the log end is evidence of lost records, which the loader
 * (log-loader.ts, highWatermarkAtOpen) weighs and clamps. `warn` is told of a damaged file.
 */
export async function readHighWatermarkCheckpoint(dir: string, warn: (line: string) => void): Promise<HighWatermarkCheckpoint> {
  let text: string;
  try {
    text = await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { value: 0, form: 'none' };
    throw err;
  }
  const parsed = parseCheckedNumber(text);
  if (parsed.form === 'damaged') {
    warn(`${join(dir, HIGH_WATERMARK_FILE)} is damaged (${JSON.stringify(text.slice(0, 40))}: its checksum fails, or it is no number): ignored, the high-water mark starts from the log start and re-advances from the leader`);
    return { value: 0, form: 'damaged' };
  }
  return parsed;
}

/** As readHighWatermarkCheckpoint, the value alone. */
export async function readHighWatermark(dir: string, warn: (line: string) => void): Promise<number> {
  return (await readHighWatermarkCheckpoint(dir, warn)).value;
}

/** Pure: the checkpoint's text for `value`. */
export function highWatermarkText(value: number): string {
  return checkedNumberText(value);
}

/**
 * Replace the checkpoint (write-temp, fsync it when `durable`, rename). The folder is not fsynced
 * for the rename: the checkpoint is written lazily anyway (each tick), so a crash always may find
 * an older one, and an older high-water mark is safe (it only ever grows, and the leader's is
 * learnt again). A lost rename only makes it older still. That fsync was one of the two each
 * partition paid per tick after its high-water mark moved: with thousands of partitions written
 * for the first time, most of the disk's work.
 */
export async function writeHighWatermark(dir: string, value: number, durable: boolean): Promise<void> {
  await writeFileAtomic(join(dir, HIGH_WATERMARK_FILE), highWatermarkText(value), durable, false);
}
