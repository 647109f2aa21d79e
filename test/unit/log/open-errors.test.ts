import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openLogManager, partitionDir } from '../../../broker-runtime/src/log/log-manager.js';
import { logOptions, recs, tempDir } from './helpers.js';

/**
 * A file of the data folder replaced by a folder, or by a link to nothing: the broker does not start,
 * and the one line it stops with names the partition and the path (Node's EISDIR names none: the
 * broker used to stop with "EISDIR: illegal operation on a directory, read" and nothing else).
 */
describe('a data folder that cannot be opened stops the start with an error naming what', () => {
  async function withLog(damage: (dir: string, data: string) => Promise<void>): Promise<Error> {
    const { dir: data, cleanup } = await tempDir();
    try {
      const logs = await openLogManager(data, logOptions({ segmentBytes: 4096 }));
      await logs.createTopic('t', 2);
      for (let i = 0; i < 60; i += 10) await logs.partition('t', 1)!.append(recs(i, 10), 1);
      await logs.close();
      await damage(partitionDir(data, 't', 1), data);
      const err = await openLogManager(data, logOptions({ segmentBytes: 4096 })).then(
        () => assert.fail('opened'),
        (e: Error) => e,
      );
      return err;
    } finally {
      await cleanup();
    }
  }

  for (const file of ['00000000000000000000.log', '00000000000000000000.index', 'high-watermark', 'leader-epoch-checkpoint']) {
    it(`${file} replaced by a folder`, async () => {
      const err = await withLog(async (dir) => {
        await rm(join(dir, file), { force: true });
        await mkdir(join(dir, file));
      });
      assert.match(err.message, /cannot open partition t\/1 \(.*t-1\): EISDIR/);
    });
  }

  it('a folder named like a segment that is not there', async () => {
    const err = await withLog((dir) => mkdir(join(dir, '00000000000000000999.log')));
    assert.match(err.message, /cannot open partition t\/1 .*EISDIR/);
  });

  it('a segment replaced by a link to nothing', async () => {
    const err = await withLog(async (dir) => {
      await rm(join(dir, '00000000000000000000.log'));
      await symlink('/nonexistent/yak', join(dir, '00000000000000000000.log'));
    });
    assert.match(err.message, /cannot open partition t\/1 .*ENOENT/);
  });

  it('topics.json replaced by a folder', async () => {
    const err = await withLog(async (_dir, data) => {
      await rm(join(data, 'topics.json'));
      await mkdir(join(data, 'topics.json'));
    });
    assert.match(err.message, /cannot open .*topics\.json: EISDIR/);
  });

  it('the clean-shutdown marker replaced by a folder', async () => {
    const err = await withLog(async (_dir, data) => {
      await rm(join(data, 'clean-shutdown'), { force: true });
      await mkdir(join(data, 'clean-shutdown'));
    });
    assert.match(err.message, /cannot open .*clean-shutdown: EISDIR/);
  });

  it('a file in the way of a partition folder', async () => {
    const err = await withLog(async (dir) => {
      await rm(dir, { recursive: true });
      await writeFile(dir, 'not a folder');
    });
    assert.match(err.message, /cannot open partition t\/1 .*ENOTDIR/);
  });
});
