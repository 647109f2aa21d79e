import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { sleep, waitFor } from '../../../testkit/wait.js';
import { checkAcked, readAll, waitForEqualHwm, type Acked } from '../../../testkit/broker/verify.js';

/** A steady producer: `workers` loops producing unique payloads until stopped; keeps every acknowledgement. */
function startProducer(client: YakClient, topic: string, workers = 4) {
  const acked: Acked[] = [];
  let failed = 0;
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let seq = 0; running; seq++) {
      const payload = { w, seq };
      try {
        const r = await client.produce(topic, { payload });
        acked.push({ partition: r.partition, offset: r.offset, payload });
      } catch {
        failed++;
        await sleep(20);
      }
    }
  });
  return {
    acked,
    failed: () => failed,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('failover', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  test('SIGKILL of the leader three times under a continuous producer loses no acknowledged record', async (t) => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 1, renewSeconds: 0.2 });
    const client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, retry: { retries: 60, minDelayMs: 20, maxDelayMs: 200 } });
    const producer = startProducer(client, 'chaos');
    let epoch = (await cluster.waitForLeader()).epoch;
    try {
      for (let round = 1; round <= 3; round++) {
        await waitFor('records flowing', () => producer.acked.length >= round * 60, 20_000);
        const { broker: old } = await cluster.waitForLeader();
        await old.kill();
        const next = await cluster.waitForLeader(15_000, old.id);
        assert.ok(next.epoch > epoch, `epoch grows (${epoch} -> ${next.epoch})`);
        epoch = next.epoch;
        t.diagnostic(`round ${round}: killed ${old.id}, new leader ${next.broker.id} epoch ${next.epoch}, acked so far ${producer.acked.length}`);
        old.start();
        await cluster.waitForInSync(3, 20_000);
      }
      await sleep(300);
    } finally {
      await producer.stop();
    }
    t.diagnostic(`acknowledged ${producer.acked.length}, failed attempts ${producer.failed()}`);
    await waitForEqualHwm(cluster.urls(), 'chaos');
    for (const b of cluster.brokers) {
      const problems = checkAcked(b.id, await readAll(b.url, 'chaos'), producer.acked);
      assert.deepEqual(problems.slice(0, 10), [], `${b.id}: ${problems.length} violations\n${cluster.describe()}`);
    }
  });

  test('SIGTERM of the leader releases the lease: a new leader within a second', async () => {
    await cluster?.stop();
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 5, renewSeconds: 1 });
    const { broker: old, epoch } = await cluster.waitForLeader();
    const started = Date.now();
    await old.stop();
    const next = await cluster.waitForLeader(10_000, old.id);
    const took = Date.now() - started;
    assert.ok(next.epoch > epoch);
    assert.ok(took < 1500, `failover after SIGTERM took ${took} ms with a 5 s lease`);
    const h = await get(next.broker.url, '/health');
    assert.equal(h.body.role, 'leader');
  });
});
