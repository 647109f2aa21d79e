import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterSnapshot } from '../../../src/shared/cluster-api.js';
import type { Supervisor } from '../../../src/main/supervisor/index.js';
import { startDesktopCluster, type DesktopCluster } from '../../helpers/desktop-cluster.js';

/**
 * ClusterApi.produceOnBroker against real brokers: each request goes to the named broker only and
 * comes back as that broker answered — a commit from the leader, a 421 NOT_LEADER naming the
 * leader from a follower, a timeout from a paused broker — never retried elsewhere.
 */
describe('produceOnBroker', () => {
  let sup: Supervisor;
  let cluster: DesktopCluster | undefined;
  let snap: ClusterSnapshot;

  before(async () => {
    cluster = await startDesktopCluster(2);
    ({ sup, snap } = cluster);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('the leader commits each request, in order of the answers', async () => {
    const leader = snap.leader!.id;
    const answers = await sup.produceOnBroker(leader, [0, 1, 2].map((n) => ({ topic: 'direct', partition: 0, payload: { n } })));
    assert.equal(answers.length, 3);
    for (const a of answers) {
      assert.equal(a.brokerId, leader);
      assert.equal(a.status, 200);
      assert.equal(a.error, null);
      assert.equal(a.result!.partition, 0);
      assert.ok(a.answeredAt >= a.sentAt);
    }
    assert.deepEqual(answers.map((a) => a.result!.offset).sort(), [0, 1, 2]);
  });

  it('a follower answers 421 NOT_LEADER naming the leader, and nothing is written', async () => {
    const follower = snap.brokers.find((b) => b.role === 'follower')!.id;
    const before = (await sup.listTopics()).find((t) => t.name === 'direct')!.partitions[0]!.highWatermark;
    const [a] = await sup.produceOnBroker(follower, [{ topic: 'direct', partition: 0, payload: { from: 'follower' } }]);
    assert.equal(a!.status, 421);
    assert.equal(a!.result, null);
    assert.equal(a!.error!.code, 'NOT_LEADER');
    assert.equal(a!.error!.leader?.id, snap.leader!.id);
    assert.equal((await sup.listTopics()).find((t) => t.name === 'direct')!.partitions[0]!.highWatermark, before);
  });

  it('a paused broker gives no answer: TIMEOUT with status 0', async () => {
    const follower = snap.brokers.find((b) => b.role === 'follower')!.id;
    await sup.brokerAction(follower, 'pause');
    try {
      const [a] = await sup.produceOnBroker(follower, [{ topic: 'direct', payload: 1 }], 300);
      assert.equal(a!.status, 0);
      assert.equal(a!.error!.code, 'TIMEOUT');
      assert.match(a!.error!.message, /no answer from broker-\d within 300 ms/);
    } finally {
      await sup.brokerAction(follower, 'resume');
    }
  });

  it('refuses an unknown broker', async () => {
    await assert.rejects(sup.produceOnBroker('broker-7', [{ topic: 'direct', payload: 1 }]), /no process named 'broker-7'/);
  });
});
