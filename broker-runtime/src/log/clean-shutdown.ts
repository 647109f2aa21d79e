import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from './atomic-file.js';

/**
 * File in the data folder that says the last stop was clean (Kafka's `.kafka_cleanshutdown`):
 * written last by a clean close, after every log was flushed and closed; taken (deleted, durably)
 * at open before anything else is written. Present at open: no crash can have torn a closed
 * segment since they were written, so their full CRC scan is skipped (the last segment of each
 * partition is still checked record by record, and the evidence of lost records still read).
 */
export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown';

/** Whether the marker was there; it is gone (and its removal durable) when this resolves. */
export async function takeCleanShutdownMarker(dataDir: string): Promise<boolean> {
  const path = join(dataDir, CLEAN_SHUTDOWN_FILE);
  try {
    await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    // Node's EISDIR names no path: say which file is in the way.
    throw new Error(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  await unlink(path);
  // A crash after this open must not find the marker again: the removal reaches the disk first.
  await fsyncDir(dataDir);
  return true;
}

/** Written (durably) after every log of the data folder was flushed and closed without a failure. */
export async function writeCleanShutdownMarker(dataDir: string): Promise<void> {
  await writeFileAtomic(join(dataDir, CLEAN_SHUTDOWN_FILE), JSON.stringify({ stoppedAt: new Date().toISOString() }) + '\n');
}
