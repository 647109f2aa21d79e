import assert from 'node:assert/strict';
import { appendFile, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { TOPICS_FILE, openLogManager, partitionDir } from '../../../broker-runtime/src/log/log-manager.js';
import { highWatermarkText } from '../../../broker-runtime/src/log/high-watermark.js';
import { collectLines, logOptions, recs, tempDir } from './helpers.js';

describe('log manager', () => {
  it('creates topics with one folder per partition and keeps them across a reopen', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manager = await openLogManager(dir, logOptions());
      assert.deepEqual(manager.topics(), []);
      await manager.createTopic('orders', 3);
      await manager.createTopic('a.b_c-d', 1);
      await manager.createTopic('orders', 3); // same count: nothing to do
      await assert.rejects(manager.createTopic('orders', 4), { code: 'TOPIC_EXISTS' });
      await assert.rejects(manager.createTopic('../evil', 1), { code: 'INVALID_REQUEST' });
      await assert.rejects(manager.createTopic('fine', 0), { code: 'INVALID_REQUEST' });
      assert.deepEqual(manager.topics(), [
        { name: 'a.b_c-d', partitions: 1 },
        { name: 'orders', partitions: 3 },
      ]);
      assert.deepEqual((await readdir(join(dir, 'topics'))).sort(), ['a.b_c-d-0', 'orders-0', 'orders-1', 'orders-2']);
      assert.equal(manager.partition('orders', 3), undefined);
      assert.equal(manager.partition('nope', 0), undefined);
      assert.equal(manager.all().length, 4);
      const log = manager.partition('orders', 1)!;
      assert.equal(log.dir, partitionDir(dir, 'orders', 1));
      await log.append(recs(0, 5), 1);
      log.setHighWatermark(5);
      await manager.close();

      const { lines, logger } = collectLines();
      const reopened = await openLogManager(dir, logOptions({ logger }));
      assert.deepEqual(reopened.topics(), manager.topics());
      assert.deepEqual(reopened.topic('orders'), { name: 'orders', partitions: 3 });
      assert.equal(reopened.partition('orders', 1)?.logEndOffset(), 5);
      assert.equal(reopened.partition('orders', 1)?.highWatermark(), 5);
      assert.ok(lines.some((l) => l.includes('opened 4 partition(s) of 2 topic(s)')), lines.join('\n'));
      await reopened.close();
      assert.match(await readFile(join(dir, TOPICS_FILE), 'utf8'), /"orders"/);
    } finally {
      await cleanup();
    }
  });

  it('serializes concurrent creations of the same topic', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manager = await openLogManager(dir, logOptions());
      const results = await Promise.allSettled([manager.createTopic('t', 2), manager.createTopic('t', 2), manager.createTopic('t', 5)]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
      assert.equal(manager.all().length, 2);
      await manager.close();
    } finally {
      await cleanup();
    }
  });

  it('writes topics.json with a checksum; refuses a damaged one, naming it; reads one without (older)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manager = await openLogManager(dir, logOptions());
      await manager.createTopic('orders', 3);
      await manager.close();
      const path = join(dir, TOPICS_FILE);
      const text = await readFile(path, 'utf8');
      assert.match(text, /^\{"version":1,"topics":\[\n\{"name":"orders","partitions":3\}\n\],"crc32":\d+\}\n$/);
      // One bit: 3 partitions read as 1 (the folders of partitions 1 and 2 would be left out).
      await writeFile(path, text.replace('"partitions":3', '"partitions":1'));
      await assert.rejects(openLogManager(dir, logOptions()), /topics\.json is unreadable \(damaged: its checksum fails/);
      await writeFile(path, '{"version":1,"topics":[\n{"name":"orders","partitions":3}\n]}\n');
      const older = await openLogManager(dir, logOptions());
      assert.deepEqual(older.topics(), [{ name: 'orders', partitions: 3 }]);
      await older.close();
    } finally {
      await cleanup();
    }
  });

  it('rebuilds a missing topics.json from the partition folders', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manager = await openLogManager(dir, logOptions());
      await manager.createTopic('my-topic', 2);
      await manager.partition('my-topic', 1)!.append(recs(0, 3), 1);
      await manager.close();
      await rm(join(dir, TOPICS_FILE));
      const { lines, logger } = collectLines();
      const reopened = await openLogManager(dir, logOptions({ logger }));
      assert.deepEqual(reopened.topics(), [{ name: 'my-topic', partitions: 2 }]);
      assert.equal(reopened.partition('my-topic', 1)?.logEndOffset(), 3);
      assert.ok(lines.some((l) => l.includes('rebuilt from the partition folders')));
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it("flushes dirty logs on a timer under fsync 'interval'", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manager = await openLogManager(dir, logOptions({ fsync: 'interval', fsyncIntervalMs: 20 }));
      await manager.createTopic('t', 1);
      const log = manager.partition('t', 0)!;
      await log.append(recs(0, 3), 1);
      log.setHighWatermark(3);
      const hwmFile = join(partitionDir(dir, 't', 0), 'high-watermark');
      for (let i = 0; i < 100; i++) {
        const text = await readFile(hwmFile, 'utf8').catch(() => '');
        if (text === highWatermarkText(3)) break;
        await sleep(10);
      }
      assert.equal(await readFile(hwmFile, 'utf8'), highWatermarkText(3));
      await manager.close();
      await assert.rejects(manager.createTopic('u', 1), /closed/);
    } finally {
      await cleanup();
    }
  });

  it('logs what recovery repaired at open', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manager = await openLogManager(dir, logOptions());
      await manager.createTopic('t', 1);
      await manager.partition('t', 0)!.append(recs(0, 3), 1);
      await manager.close();
      await appendFile(join(partitionDir(dir, 't', 0), '00000000000000000000.log'), Buffer.from('torn'));
      const { lines, logger } = collectLines();
      const reopened = await openLogManager(dir, logOptions({ logger }));
      assert.equal(reopened.partition('t', 0)?.recovery.truncatedBytes, 4);
      assert.ok(lines.some((l) => l.includes('recovered t-0: cut 4 byte(s)')), lines.join('\n'));
      await reopened.close();
    } finally {
      await cleanup();
    }
  });
});
