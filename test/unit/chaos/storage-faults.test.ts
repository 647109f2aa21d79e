import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { encodeRecords, scanRecords } from '../../../broker-runtime/src/log/record-codec.js';
import { checkpointAhead, flipCheckpointBit, loseLast, truncateLast } from '../../../chaos/storage-faults.js';
import { Rng } from '../../../testkit/rng.js';
import { partitionFolders } from '../../../chaos/targets.js';

/** The chaos harness's log-damage faults, on a partition folder laid out as a broker writes it. */
const name = (base: number, ext: string) => `${String(base).padStart(20, '0')}.${ext}`;
const records = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: null, payload: `{"i":${from + i}}`, headers: {}, timestamp: 0 }));

async function offsets(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const n of (await readdir(dir)).filter((x) => x.endsWith('.log')).sort()) scanRecords(await readFile(join(dir, n)), { onRecord: (_p, _s, o) => out.push(o) });
  return out;
}

describe('storage faults: damage to the end of a log', () => {
  let data: string;
  let part: string;
  beforeEach(async () => {
    data = await mkdtemp(join(tmpdir(), 'yak-chaos-damage-'));
    part = join(data, 'topics', 'chaos-0');
    await mkdir(part, { recursive: true });
    // Two segments: offsets 0–9 and 10–19; the checkpoint says 18 are committed.
    await writeFile(join(part, name(0, 'log')), encodeRecords(records(0, 10), 0, 1));
    await writeFile(join(part, name(0, 'index')), 'x');
    await writeFile(join(part, name(10, 'log')), encodeRecords(records(10, 10), 10, 1));
    await writeFile(join(part, name(10, 'index')), 'x');
    await writeFile(join(part, 'high-watermark'), '18\n');
    // An empty partition: never chosen, there is nothing in it to lose.
    await mkdir(join(data, 'topics', 'chaos-1'), { recursive: true });
    await writeFile(join(data, 'topics', 'chaos-1', name(0, 'log')), '');
  });
  afterEach(() => rm(data, { recursive: true, force: true }));

  it('lose-last-segment deletes the last .log of a partition holding records', async () => {
    const d = await loseLast(new Rng(1), await partitionFolders(data));
    assert.equal(d.partition, 'chaos-0');
    assert.deepEqual(await offsets(part), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal((await readFile(join(part, 'high-watermark'), 'utf8')).trim(), '18', 'the checkpoint still names the lost records');
  });

  it('truncate-last-segment empties it', async () => {
    await truncateLast(new Rng(2), await partitionFolders(data));
    assert.equal((await stat(join(part, name(10, 'log')))).size, 0);
    assert.equal((await offsets(part)).length, 10);
  });

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`checkpoint-ahead cuts committed records off the end, the checkpoint left past the new end (seed ${seed})`, async () => {
      const d = await checkpointAhead(new Rng(seed), await partitionFolders(data));
      const kept = d.keptBelow as number;
      assert.ok(kept < 18 && kept >= 0, `kept below ${kept}`);
      assert.deepEqual(await offsets(part), Array.from({ length: kept }, (_, i) => i), 'offsets 0..kept-1 remain, contiguous');
      assert.equal((await readFile(join(part, 'high-watermark'), 'utf8')).trim(), '18');
      const files = await readdir(part);
      if (kept < 10) assert.ok(!files.includes(name(10, 'log')) && !files.includes(name(10, 'index')), 'the later segment and its index are gone');
      assert.ok(!files.includes(name(kept < 10 ? 0 : 10, 'index')), 'the cut segment has no index left to be ahead of it');
    });
  }

  it('checkpoint-ahead does nothing where no checkpoint was written yet', async () => {
    await rm(join(part, 'high-watermark'));
    const d = await checkpointAhead(new Rng(1), await partitionFolders(data));
    assert.ok(d.skipped);
    assert.equal((await offsets(part)).length, 20);
  });

  it('flip-checkpoint-bit flips exactly one bit of one checkpoint file', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      await writeFile(join(part, 'high-watermark'), 'v1 18 1');
      const before = await readFile(join(part, 'high-watermark'));
      const d = await flipCheckpointBit(new Rng(seed), await partitionFolders(data));
      assert.equal(d.file, 'high-watermark', 'the only checkpoint there');
      const after = await readFile(join(part, 'high-watermark'));
      let bits = 0;
      for (let i = 0; i < before.length; i++) for (let x = before[i]! ^ after[i]!; x; x >>= 1) bits += x & 1;
      assert.equal(bits, 1);
    }
  });
});
