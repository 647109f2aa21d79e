import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Suffix of half-written replacements; a crash can leave one behind, and open() deletes them. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Replace `path` with `data` so that a crash leaves either the old or the new content, never a mix:
 * write a temp file, fsync it, rename it over the target, fsync the folder (skipped when !durable).
 * `syncFolder` false keeps the fsync of the data but leaves the rename to the next fsync of the
 * folder: for a file whose old content is still correct, only older (a crash may leave it).
 */
export async function writeFileAtomic(path: string, data: string | Buffer, durable = true, syncFolder = durable): Promise<void> {
  const temp = path + TEMP_SUFFIX;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(temp, path);
  if (durable && syncFolder) await fsyncDir(dirname(path));
}

/** Make a folder's entries (created, renamed, deleted files) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
