import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  dir: string;
  /**
   * Removes the folder and everything below it; safe to call twice. Retried on ENOTEMPTY: a file
   * handle evicted by the segment-file cache may still be closing when a test cleans up (the unit
   * suite saw `rmdir … ENOTEMPTY` in about 1 run of 8 at load, before and after the checkpoint checksums).
   */
  cleanup: () => Promise<void>;
}

/** A fresh folder below the OS's temp folder, named `${prefix}XXXXXX`. */
export async function tempDir(prefix: string): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }) };
}
