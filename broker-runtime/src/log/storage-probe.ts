import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyStorageError } from './storage-error.js';

const PROBE_FILE = '.storage-probe';
/** Big enough that a disk with only a few bytes free still fails it, small enough to be cheap. */
export const PROBE_BYTES = 64 * 1024;

/**
 * Write, fsync and remove a small file in `dir`: whether the data folder takes writes again.
 * Throws a StorageError (or the original error) when it does not.
 */
export async function probeWrite(dir: string, bytes = PROBE_BYTES): Promise<void> {
  const path = join(dir, PROBE_FILE);
  try {
    const handle = await open(path, 'w');
    try {
      await handle.write(Buffer.alloc(bytes), 0, bytes, 0);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw classifyStorageError(err, `${path}: write probe`) ?? err;
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
