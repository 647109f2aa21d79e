import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';

const GROUPS = ['ca', 'cb', 'cc'];
const ROUNDS = 40;

type OffsetView = { topic: string; partition: number; committed_offset: number | null };

/**
 * __consumer_offsets is compacted (cleanup.policy=compact) on every replica: with 1 KiB segments
 * and a compaction pass every second, many commits leave only the latest record per key in its
 * closed segments. A coordinator that takes over after compaction reads the same committed offsets
 * back, and a consumer of the topic walks through the gaps to the high-water mark.
 */
describe('compaction of __consumer_offsets', () => {
  let cluster: TestCluster;
  const leaderUrl = async () => (await cluster.waitForLeader()).broker.url;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, extra: ['--segment-bytes', '1024', '--retention-check-seconds', '1'] });
    const url = await leaderUrl();
    assert.equal((await call(url, 'POST', '/topics', { name: 'data', partitions: 4 })).status, 201);
    const records = Array.from({ length: 200 }, (_, i) => ({ partition: i % 4, payload: { i } }));
    assert.equal((await call(url, 'POST', '/produce/batch', { topic: 'data', records })).status, 200);
  });
  after(async () => cluster?.stop());

  test('many commits, compaction on every broker, a failover: the committed offsets are the same', async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const g of GROUPS) {
        const offsets = [0, 1, 2, 3].map((p) => ({ topic: 'data', partition: p, offset: Math.min(50, round + p) }));
        const r = await call(await leaderUrl(), 'POST', `/groups/${g}/commit`, { offsets });
        assert.equal(r.status, 200, r.text);
      }
    }
    // Every replica compacts its own copy.
    await waitFor('every broker compacted __consumer_offsets', async () => cluster.brokers.every((b) => b.output.some((l) => l.includes('compaction: __consumer_offsets/0'))) || null, 30_000);

    const url = await leaderUrl();
    const before = new Map<string, OffsetView[]>();
    for (const g of GROUPS) before.set(g, (await call(url, 'GET', `/groups/${g}`)).body.offsets.map(({ topic, partition, committed_offset }: OffsetView) => ({ topic, partition, committed_offset })));
    assert.deepEqual(before.get('cc')!.map((o) => o.committed_offset), [40, 41, 42, 43]);

    // A reader of the topic walks from the log start through the gaps to the high-water mark.
    let next = 0;
    let read = 0;
    let hwm = Number.MAX_SAFE_INTEGER;
    for (let guard = 0; next < hwm && guard < 1000; guard++) {
      const c = await call(url, 'GET', `/consume?topic=__consumer_offsets&partition=0&offset=${next}&max=50`);
      if (c.status === 416) {
        next = c.body.log_start_offset ?? c.body.details?.log_start_offset;
        assert.ok(Number.isSafeInteger(next), c.text);
        continue;
      }
      assert.equal(c.status, 200, c.text);
      read += c.body.records.length;
      next = c.body.next_offset;
      hwm = c.body.high_watermark;
    }
    assert.equal(next, hwm, 'the reader reached the high-water mark');
    assert.ok(read < GROUPS.length * 4 * ROUNDS, `compaction removed superseded commits (${read} records read of ${GROUPS.length * 4 * ROUNDS} written)`);

    const { broker: old } = await cluster.waitForLeader();
    await old.kill();
    const next2 = await cluster.waitForLeader(20_000, old.id);
    for (const g of GROUPS) {
      const view = await waitFor(`the new leader has read group ${g} back`, async () => {
        const v = await call(next2.broker.url, 'GET', `/groups/${g}`);
        return v.status === 200 ? v : null;
      }, 20_000);
      assert.deepEqual(view.body.offsets.map(({ topic, partition, committed_offset }: OffsetView) => ({ topic, partition, committed_offset })), before.get(g), `group ${g}`);
    }
  });
});
