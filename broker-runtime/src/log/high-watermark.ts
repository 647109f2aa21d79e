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

/** Replace the checkpoint (write-temp + rename; fsynced when `durable`). */
export async function writeHighWatermark(dir: string, value: number, durable: boolean): Promise<void> {
  await writeFileAtomic(join(dir, HIGH_WATERMARK_FILE), `${value}\n`, durable);
}
