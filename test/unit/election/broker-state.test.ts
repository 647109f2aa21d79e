import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BrokerState } from '../../../broker-runtime/src/election/broker-state.js';
import { tempDir } from '../log/helpers.js';

describe('broker-state.json at start', () => {
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
});
