import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BrokerState } from '../../../broker-runtime/src/election/broker-state.js';
import { tempDir } from '../log/helpers.js';

describe('broker-state.json at start', () => {
  it('remembers the cluster the folder belongs to across a restart, with the checksum holding', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const first = await BrokerState.open(dir);
      assert.equal(first.clusterIdentity(), null);
      await first.observe(3);
      await first.rememberClusterIdentity('u-1');
      const again = await BrokerState.open(dir);
      assert.equal(again.clusterIdentity(), 'u-1');
      assert.equal(again.highestEpoch(), 3);
      assert.deepEqual(again.repairs, []);
    } finally {
      await cleanup();
    }
  });

  it('a folder in its place stops the start, naming the file (else every write of it failed silently and epochs taken were not durable)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, 'broker-state.json'));
      await assert.rejects(BrokerState.open(dir), /cannot read .*broker-state\.json: EISDIR/);
    } finally {
      await cleanup();
    }
  });

  it('a torn or garbled file starts from nothing, and is written again', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      for (const text of ['{"highestEpoch": 4', 'null', '\u0000\u0000']) {
        await writeFile(join(dir, 'broker-state.json'), text);
        const state = await BrokerState.open(dir);
        assert.equal(state.highestEpoch(), 0);
        await state.observe(7);
        assert.equal((await BrokerState.open(dir)).highestEpoch(), 7);
      }
    } finally {
      await cleanup();
    }
  });

  it('is written with a checksum; a damaged file forgets its in-sync set and keeps its epoch; an older file without one loads', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'broker-state.json');
      const state = await BrokerState.open(dir);
      await state.observe(7);
      await state.rememberIsr({ epoch: 7, members: ['b1', 'b2'], version: 3 });
      const text = await readFile(path, 'utf8');
      assert.match(text, /^\{"highestEpoch":7,"isr":\{.*\},"crc32":\d+\}$/);
      assert.deepEqual((await BrokerState.open(dir)).lastIsr(), { epoch: 7, members: ['b1', 'b2'], version: 3 });

      // One bit: "b2" -> "b3", a broker that was never in the set.
      await writeFile(path, text.replace('"b2"', '"b3"'));
      const damaged = await BrokerState.open(dir);
      assert.equal(damaged.lastIsr(), null);
      assert.equal(damaged.highestEpoch(), 7);
      assert.match(damaged.repairs.join('\n'), /broker-state\.json is damaged \(its checksum fails\)/);

      await writeFile(path, JSON.stringify({ highestEpoch: 5, isr: { epoch: 5, members: ['b1'], version: 1 } }));
      const older = await BrokerState.open(dir);
      assert.equal(older.highestEpoch(), 5);
      assert.deepEqual(older.lastIsr(), { epoch: 5, members: ['b1'], version: 1 });
      assert.deepEqual(older.repairs, []);
    } finally {
      await cleanup();
    }
  });
});
