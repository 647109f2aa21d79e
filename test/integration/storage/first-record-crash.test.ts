import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call, get } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * Invariant: a record acknowledged is found after a crash — also the first record into a partition
 * just created, whose folder, segment and epoch were made on the spot. The leader-epoch checkpoint
 * is no longer written in the append path (it follows with the next flush), and the partition's
 * files are made when the topic is created: a SIGKILL right after the last acknowledgement must
 * still find every record, and no partition unclean.
 * One broker with --fsync always: an acknowledgement is an fsync there, nothing waits for a tick.
 */
const PARTITIONS = 24;

describe('a SIGKILL right after the first record into new partitions', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  test('every acknowledged first record reads back after the restart, no partition unclean', async (t) => {
    cluster = await TestCluster.start({ brokers: 1, leaseSeconds: 1, renewSeconds: 0.2, extra: ['--fsync', 'always'] });
    const { broker } = await cluster.waitForLeader();
    const created = await call(broker.url, 'POST', '/topics', { name: 'fresh', partitions: PARTITIONS });
    assert.equal(created.status, 201, created.text);
    const acked: { partition: number; offset: number }[] = [];
    await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, partition) => {
        const r = await call(broker.url, 'POST', '/produce', { topic: 'fresh', partition, payload: { partition } });
        assert.equal(r.status, 200, r.text);
        acked.push({ partition, offset: (r.body as { offset: number }).offset });
      }),
    );
    // No pause: the kill lands before any flush tick could write a checkpoint.
    await broker.kill();
    t.diagnostic(`${acked.length} first records acknowledged, then SIGKILL`);

    broker.start();
    await waitFor('the broker answering again', async () => (await get(broker.url, '/health', 1000).catch(() => undefined))?.status === 200, 30_000);
    await cluster.waitForLeader();
    for (const a of acked) {
      const r = await get(broker.url, `/consume?topic=fresh&partition=${a.partition}&offset=0&max=10`);
      assert.equal(r.status, 200, r.text);
      const records = (r.body as { records: { offset: number; payload: unknown }[] }).records;
      assert.deepEqual(records.map((x) => ({ offset: x.offset, payload: x.payload })), [{ offset: a.offset, payload: { partition: a.partition } }], `fresh/${a.partition}`);
    }
    const health = (await get(broker.url, '/health')).body as { unclean_partitions?: string[] };
    assert.deepEqual(health.unclean_partitions ?? [], []);
    assert.ok(!broker.output.some((l) => /UNCLEAN|DATA LOSS/.test(l)), broker.tail(30));
  });
});
