import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileHandleCache } from '../../../broker-runtime/src/log/file-handle-cache.js';
import { openLogManager } from '../../../broker-runtime/src/log/log-manager.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import type { FilePartitionLog } from '../../../broker-runtime/src/log/partition-log.js';
import { logOptions, recs, tempDir } from './helpers.js';

/**
 * Invariant (issue 10, item 3): a broker never holds more segment files open than its cap, however
 * many partitions it has; a file closed to make room reopens on demand; a file in use is never
 * closed; a file with writes not yet fsynced is fsynced before its handle closes.
 */
async function files(dir: string, n: number): Promise<string[]> {
  const paths = Array.from({ length: n }, (_, i) => join(dir, `f${i}`));
  for (const p of paths) await writeFile(p, `content of ${p}`);
  return paths;
}

/** Handles this process holds on files under `dir` (Linux: /proc/self/fd). */
async function openUnder(dir: string): Promise<number> {
  const { readlink } = await import('node:fs/promises');
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir)) n++;
  }
  return n;
}

describe('the cache of open segment files', () => {
  it('keeps at most maxOpen files open, closing the least recently used, and reopens on demand', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cache = new FileHandleCache(3);
      const cached = (await files(dir, 10)).map((p) => cache.file(p, 'r'));
      for (const f of cached) {
        const h = await f.acquire();
        f.release();
        assert.ok(h.fd > 0);
        assert.ok(cache.openCount <= 3, `open ${cache.openCount}`);
      }
      assert.equal(cache.openCount, 3);
      assert.deepEqual(cached.map((f) => f.isOpen()), [false, false, false, false, false, false, false, true, true, true]);
      assert.equal(cache.evictedCount, 7);
      // The first file again: reopened, and it reads what is there; the least recently used (f7) made room.
      const text = await cached[0]!.with(async (h) => (await h.readFile()).toString());
      assert.equal(text, `content of ${join(dir, 'f0')}`);
      assert.equal(cached[7]!.isOpen(), false);
      if (process.platform === 'linux') assert.equal(await openUnder(dir), 3);
      for (const f of cached) await f.close();
      assert.equal(cache.openCount, 0);
    } finally {
      await cleanup();
    }
  });

  it('never closes a file in use: past the cap for a moment instead', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cache = new FileHandleCache(2);
      const cached = (await files(dir, 4)).map((p) => cache.file(p, 'r'));
      const held = await Promise.all(cached.map((f) => f.acquire()));
      assert.equal(cache.openCount, 4);
      for (const h of held) assert.ok((await h.stat()).size > 0); // every handle still usable
      for (const f of cached) f.release();
      // The next open makes room again.
      await cached[0]!.with(() => undefined);
      const extra = cache.file((await files(dir, 5))[4]!, 'r');
      await extra.with(() => undefined);
      assert.ok(cache.openCount <= 2, `open ${cache.openCount}`);
      for (const f of [...cached, extra]) await f.close();
    } finally {
      await cleanup();
    }
  });

  it('fsyncs a file with unsynced writes before closing it to make room', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cache = new FileHandleCache(1);
      const [a, b] = (await files(dir, 2)).map((p) => cache.file(p));
      let synced = 0;
      await a!.with(async (h) => {
        const datasync = h.datasync.bind(h);
        h.datasync = async () => {
          synced++;
          await datasync();
        };
        await h.write(Buffer.from('more'), 0, 4, 100);
      });
      a!.wrote();
      assert.equal(a!.dirty(), true);
      await b!.with(() => undefined); // a is closed to make room: fsynced first
      assert.equal(synced, 1);
      assert.equal(a!.isOpen(), false);
      assert.equal(a!.dirty(), false);
      await a!.datasync(); // nothing left to sync: no reopen just for that
      assert.equal(a!.isOpen(), false);
      await a!.close();
      await b!.close();
    } finally {
      await cleanup();
    }
  });

  it('partition logs share one cap: 60 partitions through 8 handles, every record reads back after evictions', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cache = new FileHandleCache(8);
      const logs = [];
      for (let p = 0; p < 60; p++) logs.push(await openPartitionLog(join(dir, `t-${p}`), 't', p, logOptions({ files: cache, segmentBytes: 600 })));
      for (let round = 0; round < 3; round++) {
        for (const l of logs) await l.append(recs(round * 4, 4), 1);
        assert.ok(cache.openCount <= 8, `open ${cache.openCount}`);
      }
      for (const l of logs) l.setHighWatermark(l.logEndOffset());
      for (const l of logs) {
        const read = await l.read(0, 12, 100, 1 << 20);
        assert.deepEqual(read.map((r) => r.payload), recs(0, 12).map((r) => r.payload));
      }
      assert.ok(cache.openCount <= 8, `open ${cache.openCount}`);
      assert.ok(cache.evictedCount > 0);
      for (const l of logs) await l.close();
      assert.equal(cache.openCount, 0);
      const reopened = await openPartitionLog(join(dir, 't-59'), 't', 59, logOptions({ files: cache, segmentBytes: 600 }));
      assert.equal(reopened.logEndOffset(), 12);
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('a log manager over many partitions stays under its cap through create, append, flush and close, and lists each topic once', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cache = new FileHandleCache(16);
      const m = await openLogManager(dir, logOptions({ files: cache, fsync: 'interval', fsyncIntervalMs: 50 }));
      await Promise.all(Array.from({ length: 40 }, (_, i) => m.createTopic(`t${i}`, 3)));
      assert.equal(m.all().length, 120);
      for (const l of m.all()) await l.append(recs(0, 2), 1);
      assert.ok(cache.openCount <= 16, `open ${cache.openCount}`);
      await new Promise((r) => setTimeout(r, 150)); // a periodic flush
      for (const l of m.all()) assert.equal((l as FilePartitionLog).needsFlush(), false);
      await m.close();
      assert.equal(cache.openCount, 0);
      // Created side by side, written in groups: each topic once in topics.json (twice would open its folders twice).
      const listed = (JSON.parse(await readFile(join(dir, 'topics.json'), 'utf8')) as { topics: { name: string }[] }).topics.map((t) => t.name);
      assert.equal(listed.length, 40);
      assert.equal(new Set(listed).size, 40);
      const again = await openLogManager(dir, logOptions({ files: cache }));
      assert.equal(again.all().length, 120);
      await again.close();
    } finally {
      await cleanup();
    }
  });
});
