import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeRecords } from '../../broker-runtime/src/log/record-codec.js';
import type { FsyncPolicy } from '../options.js';
import { payloadText } from '../payload.js';

/** The bytes a broker stores for one 1,000-record batch, encoded by the broker's own codec. */
export function encodedBatch(count: number): Buffer {
  const now = Date.now();
  return encodeRecords(
    Array.from({ length: count }, (_, i) => ({ key: null, payload: payloadText(i), headers: {}, timestamp: now })),
    0,
    1,
  );
}

/**
 * Appends `chunk` to a new file in `dir` until `totalBytes` are written, syncing as a broker with
 * this policy would: after every write (always), from a timer every `intervalMs` alongside the
 * writes (interval), or never. Answers MB/s (10^6 bytes). The file is removed afterwards.
 */
export async function diskAppend(dir: string, chunk: Buffer, totalBytes: number, policy: FsyncPolicy, intervalMs: number): Promise<number> {
  const path = join(dir, `disk-bench-${process.pid}-${Date.now()}.log`);
  const fh = await open(path, 'a');
  let syncing: Promise<void> | null = null;
  const timer =
    policy === 'interval'
      ? setInterval(() => {
          syncing ??= fh.datasync().finally(() => (syncing = null));
        }, intervalMs)
      : null;
  try {
    const start = performance.now();
    let written = 0;
    while (written < totalBytes) {
      await fh.write(chunk, 0, chunk.length);
      if (policy === 'always') await fh.datasync();
      written += chunk.length;
    }
    const elapsed = performance.now() - start;
    return written / 1e6 / (elapsed / 1000);
  } finally {
    if (timer) clearInterval(timer);
    await syncing;
    await fh.close();
    await unlink(path);
  }
}
