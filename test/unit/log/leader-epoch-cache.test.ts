import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EPOCH_CHECKPOINT_FILE, LeaderEpochCache, endOffsetForEpoch } from '../../../broker-runtime/src/log/leader-epoch-cache.js';
import { tempDir } from './helpers.js';

describe('leader-epoch cache', () => {
  const filled = () => {
    const cache = new LeaderEpochCache('/nowhere');
    assert.equal(cache.assign(1, 0), true);
    assert.equal(cache.assign(1, 7), false, 'the same epoch again changes nothing');
    assert.equal(cache.assign(3, 10), true);
    assert.equal(cache.assign(6, 25), true);
    return cache;
  };

  it('assigns epochs in order and refuses to go back', () => {
    const cache = filled();
    assert.deepEqual(cache.entries(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 10 },
      { epoch: 6, startOffset: 25 },
    ]);
    assert.equal(cache.latestEpoch(), 6);
    assert.throws(() => cache.assign(5, 30), /older/);
    assert.throws(() => cache.assign(7, 20), /before epoch 6/);
    assert.equal(cache.assign(7, 25), true, 'an epoch that wrote nothing is replaced');
    assert.deepEqual(cache.entries().at(-1), { epoch: 7, startOffset: 25 });
    assert.equal(cache.entries().length, 3);
  });

  it('answers epochAt for any offset', () => {
    const cache = filled();
    assert.deepEqual([0, 9, 10, 24, 25, 1000].map((o) => cache.epochAt(o)), [1, 1, 3, 3, 6, 6]);
    assert.equal(new LeaderEpochCache('/nowhere').epochAt(5), -1);
  });

  it('answers endOffsetFor like Kafka: the next epoch start, the log end for the latest, -1 when unknown', () => {
    const cache = filled();
    const leo = 40;
    assert.deepEqual(cache.endOffsetFor(6, leo), { epoch: 6, endOffset: 40 });
    assert.deepEqual(cache.endOffsetFor(3, leo), { epoch: 3, endOffset: 25 });
    assert.deepEqual(cache.endOffsetFor(1, leo), { epoch: 1, endOffset: 10 });
    assert.deepEqual(cache.endOffsetFor(2, leo), { epoch: 1, endOffset: 10 }, 'an epoch this log never saw ends where the next one began');
    assert.deepEqual(cache.endOffsetFor(4, leo), { epoch: 3, endOffset: 25 });
    assert.deepEqual(cache.endOffsetFor(0, leo), { epoch: 0, endOffset: 0 });
    assert.deepEqual(cache.endOffsetFor(9, leo), { epoch: -1, endOffset: -1 });
    assert.deepEqual(endOffsetForEpoch([], 1, 0), { epoch: -1, endOffset: -1 });
  });

  it('truncates from the end', () => {
    const cache = filled();
    assert.equal(cache.truncateFromEnd(30), false);
    assert.equal(cache.truncateFromEnd(25), true);
    assert.deepEqual(cache.entries().map((e) => e.epoch), [1, 3]);
    assert.equal(cache.truncateFromEnd(11), false);
    assert.equal(cache.truncateFromEnd(0), true);
    assert.deepEqual(cache.entries(), []);
    assert.equal(cache.latestEpoch(), -1);
  });

  it('persists atomically and loads back; says why a file cannot be used', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      assert.equal(await LeaderEpochCache.load(dir), 'missing');
      const cache = new LeaderEpochCache(join(dir, EPOCH_CHECKPOINT_FILE), filled().entries());
      await cache.persist();
      assert.deepEqual(await readdir(dir), [EPOCH_CHECKPOINT_FILE], 'no temp file left behind');
      const loaded = await LeaderEpochCache.load(dir);
      assert.ok(loaded instanceof LeaderEpochCache);
      assert.deepEqual(loaded.entries(), cache.entries());
      assert.match(await readFile(join(dir, EPOCH_CHECKPOINT_FILE), 'utf8'), /^\{"version":2,"epochs":\[\{"epoch":1,"startOffset":0\},.*\],"crc32":\d+\}\n$/);

      const path = join(dir, EPOCH_CHECKPOINT_FILE);
      for (const [text, reason] of [
        ['{not json', /JSON/],
        ['{"version":3,"epochs":[]}', /version/],
        ['{"version":2,"epochs":[]}', /^damaged: version 2 without its checksum/],
        ['{"version":1,"epochs":[{"epoch":2,"startOffset":5},{"epoch":1,"startOffset":9}]}', /do not increase/],
        ['{"version":1,"epochs":[{"epoch":"2","startOffset":5}]}', /bad entry/],
      ] as const) {
        await writeFile(path, text);
        const result = await LeaderEpochCache.load(dir);
        assert.equal(typeof result, 'string');
        assert.match(result as string, reason);
      }
    } finally {
      await cleanup();
    }
  });
});
