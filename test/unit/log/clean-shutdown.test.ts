import assert from 'node:assert/strict';
import { access, appendFile, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLEAN_SHUTDOWN_FILE } from '../../../broker-runtime/src/log/clean-shutdown.js';
import { openLogManager, partitionDir } from '../../../broker-runtime/src/log/log-manager.js';
import { parseSegmentFileName } from '../../../broker-runtime/src/log/log-segment.js';
import type { LogOptions } from '../../../broker-runtime/src/log/types.js';
import { collectLines, logOptions, recs, tempDir } from './helpers.js';

/**
 * Invariant (issue 10, item 3; Kafka's clean-shutdown marker): the marker exists only between a
 * close that flushed and closed every partition and the next open, which removes it before writing
 * anything. With it, closed segments are trusted unread (a broker with 10,000 partitions restarts
 * without reading every byte); without it (a crash) every segment is checked as before. Either way
 * the last segment is checked record by record and lost records are looked for.
 */
const RECORDS = 40;
const small: Partial<LogOptions> = { segmentBytes: 1500, indexIntervalBytes: 200 };

const exists = (path: string) => access(path).then(() => true, () => false);

/** A data folder with topic t (1 partition) holding RECORDS committed records over several segments, closed cleanly. */
async function closedCleanly(dir: string): Promise<string> {
  const m = await openLogManager(dir, logOptions(small));
  await m.createTopic('t', 1);
  const log = m.partition('t', 0)!;
  for (let i = 0; i < RECORDS; i += 4) await log.append(recs(i, 4), 1);
  log.setHighWatermark(RECORDS);
  await m.close();
  return partitionDir(dir, 't', 0);
}

async function segmentFiles(pdir: string): Promise<string[]> {
  return (await readdir(pdir)).filter((n) => parseSegmentFileName(n) !== undefined).sort();
}

/** Flip one byte in the middle of a file. */
async function flipMiddle(path: string): Promise<void> {
  const buf = await readFile(path);
  const at = Math.floor(buf.length / 2);
  buf[at] = buf[at]! ^ 0xff;
  await writeFile(path, buf);
}

describe('the clean-shutdown marker', () => {
  it('a clean close leaves it; the next open takes it before writing anything', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await closedCleanly(dir);
      assert.equal(await exists(join(dir, CLEAN_SHUTDOWN_FILE)), true);
      const { lines, logger } = collectLines();
      const m = await openLogManager(dir, logOptions({ ...small, logger }));
      assert.equal(await exists(join(dir, CLEAN_SHUTDOWN_FILE)), false, 'a crash from here on must not find it');
      assert.ok(lines.some((l) => l.includes('after a clean shutdown')), lines.join('\n'));
      assert.equal(m.partition('t', 0)!.logEndOffset(), RECORDS);
      await m.close();
      assert.equal(await exists(join(dir, CLEAN_SHUTDOWN_FILE)), true);
    } finally {
      await cleanup();
    }
  });

  it('after a crash (no marker) a flipped bit in a closed segment is found: unclean, as before', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const pdir = await closedCleanly(dir);
      await unlink(join(dir, CLEAN_SHUTDOWN_FILE));
      const segments = await segmentFiles(pdir);
      assert.ok(segments.length >= 3, `segments: ${segments.join(', ')}`);
      await flipMiddle(join(pdir, segments[0]!));
      const m = await openLogManager(dir, logOptions(small));
      const log = m.partition('t', 0)!;
      assert.equal(log.unclean(), true);
      assert.ok(log.logEndOffset() < RECORDS);
      await m.close();
    } finally {
      await cleanup();
    }
  });

  it('after a clean shutdown closed segments are trusted unread (as Kafka): the same flip is not looked for', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const pdir = await closedCleanly(dir);
      const segments = await segmentFiles(pdir);
      await flipMiddle(join(pdir, segments[0]!));
      const m = await openLogManager(dir, logOptions(small));
      const log = m.partition('t', 0)!;
      assert.equal(log.unclean(), false);
      assert.equal(log.logEndOffset(), RECORDS);
      await m.close();
    } finally {
      await cleanup();
    }
  });

  it('after a clean shutdown the last segment is still checked: a flip in its middle marks the partition unclean', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const pdir = await closedCleanly(dir);
      const segments = await segmentFiles(pdir);
      await flipMiddle(join(pdir, segments[segments.length - 1]!));
      const m = await openLogManager(dir, logOptions(small));
      const log = m.partition('t', 0)!;
      assert.equal(log.unclean(), true);
      assert.ok(log.logEndOffset() < RECORDS);
      await m.close();
    } finally {
      await cleanup();
    }
  });

  it('after a clean shutdown a garbled tail of the last segment is still cut', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const pdir = await closedCleanly(dir);
      const segments = await segmentFiles(pdir);
      await appendFile(join(pdir, segments[segments.length - 1]!), Buffer.from([0, 0, 0, 40, 1, 2, 3]));
      const { lines, logger } = collectLines();
      const m = await openLogManager(dir, logOptions({ ...small, logger }));
      const log = m.partition('t', 0)!;
      assert.equal(log.logEndOffset(), RECORDS);
      assert.equal(log.recovery.truncatedBytes, 7);
      assert.ok(lines.some((l) => l.includes('cut 7 byte(s)')), lines.join('\n'));
      await m.close();
    } finally {
      await cleanup();
    }
  });

  it('after a clean shutdown lost records are still looked for: a last segment gone marks the partition unclean', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const pdir = await closedCleanly(dir);
      const segments = await segmentFiles(pdir);
      await unlink(join(pdir, segments[segments.length - 1]!));
      const m = await openLogManager(dir, logOptions(small));
      const log = m.partition('t', 0)!;
      assert.equal(log.unclean(), true);
      await m.close();
    } finally {
      await cleanup();
    }
  });

  it('a partition created after the open is opened as new, and the next clean close leaves the marker again', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await closedCleanly(dir);
      const m = await openLogManager(dir, logOptions(small));
      await m.createTopic('u', 2);
      await m.partition('u', 1)!.append(recs(0, 3), 1);
      await m.close();
      assert.equal(await exists(join(dir, CLEAN_SHUTDOWN_FILE)), true);
      const again = await openLogManager(dir, logOptions(small));
      assert.equal(again.partition('u', 1)!.logEndOffset(), 3);
      assert.equal(again.partition('t', 0)!.logEndOffset(), RECORDS);
      await again.close();
    } finally {
      await cleanup();
    }
  });
});
