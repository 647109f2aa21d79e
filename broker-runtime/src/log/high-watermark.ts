import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/** File in a partition folder holding the last checkpointed high-water mark, as decimal text. */
export const HIGH_WATERMARK_FILE = 'high-watermark';

/**
 * The checkpointed high-water mark of the partition in `dir` as written (0 when missing or
 * unreadable). Not clamped: a value past the log end is evidence of lost records, which the
 * loader (log-loader.ts, highWatermarkAtOpen) weighs and clamps.
 */
export async function readHighWatermark(dir: string, log: (line: string) => void): Promise<number> {
  let text: string;
  try {
    text = await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < 0) {
    log(`ignoring unreadable high-water mark checkpoint ${JSON.stringify(text.slice(0, 40))}`);
    return 0;
  }
  return value;
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
  await writeFileAtomic(join(dir, HIGH_WATERMARK_FILE), `${value}\n`, durable, false);
}
