import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * Consumer groups against real brokers and a real redis-server: the coordinator on the leader,
 * committed offsets in the replicated __consumer_offsets topic, REST /groups.
 */
describe('consumer groups', () => {
  let cluster: TestCluster;
  const leaderUrl = async () => (await cluster.waitForLeader()).broker.url;
  const post = async (path: string, body: unknown) => call(await leaderUrl(), 'POST', path, body);
  const get = async (path: string) => call(await leaderUrl(), 'GET', path);

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 1, renewSeconds: 0.25 });
    assert.equal((await post('/topics', { name: 'orders', partitions: 4 })).status, 201);
    const records = Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, payload: { i } }));
    assert.equal((await post('/produce/batch', { topic: 'orders', records })).status, 200);
  });
  after(async () => cluster?.stop());

  const join = (group: string, body: Record<string, unknown>) => post(`/groups/${group}/join`, { topics: ['orders'], ...body });
  const parts = (answer: { body: { partitions: { partition: number }[] } }) => answer.body.partitions.map((p) => p.partition).sort();

  test('two members share the partitions, and a member whose session expires loses its partitions to the other', async () => {
    const a1 = await join('g1', { session_timeout_ms: 2000, rebalance_timeout_ms: 5000 });
    assert.equal(a1.status, 200, a1.text);
    assert.deepEqual(parts(a1), [0, 1, 2, 3]);
    const bJoin = join('g1', { session_timeout_ms: 1500, rebalance_timeout_ms: 5000 });
    // a learns of the rebalance from its heartbeat, then joins again with its member id.
    await waitFor('a is told to rejoin', async () => (await post('/groups/g1/heartbeat', { member_id: a1.body.member_id, generation: a1.body.generation })).body?.error === 'REBALANCE_IN_PROGRESS', 10_000);
    const a2 = await join('g1', { member_id: a1.body.member_id, session_timeout_ms: 2000, rebalance_timeout_ms: 5000 });
    const b = await bJoin;
    assert.equal(b.status, 200, b.text);
    assert.equal(a2.body.generation, b.body.generation);
    assert.ok(a2.body.generation > a1.body.generation);
    assert.deepEqual([...parts(a2), ...parts(b)].sort(), [0, 1, 2, 3]);
    assert.equal(parts(a2).length, 2);
    const described = await get('/groups/g1');
    assert.equal(described.body.state, 'Stable');
    assert.equal(described.body.members.length, 2);

    // b goes silent; a keeps heartbeating until told to rejoin, then holds every partition.
    let rejoin = false;
    await waitFor('b expires', async () => {
      const h = await post('/groups/g1/heartbeat', { member_id: a2.body.member_id, generation: a2.body.generation });
      rejoin = h.body?.error === 'REBALANCE_IN_PROGRESS';
      return rejoin;
    }, 15_000, 300);
    const a3 = await join('g1', { member_id: a1.body.member_id, session_timeout_ms: 2000, rebalance_timeout_ms: 5000 });
    assert.deepEqual(parts(a3), [0, 1, 2, 3]);
    const hb = await post('/groups/g1/heartbeat', { member_id: b.body.member_id, generation: b.body.generation });
    assert.equal(hb.status, 404);
    assert.equal(hb.body.error, 'UNKNOWN_MEMBER_ID');
    await post('/groups/g1/leave', { member_id: a1.body.member_id });
  });

  test('a stale-generation commit is refused and changes nothing; lag is the high-water mark minus the committed offset', async () => {
    const a1 = await join('g2', { session_timeout_ms: 10_000 });
    const c1 = await post('/groups/g2/commit', { member_id: a1.body.member_id, generation: a1.body.generation, offsets: [{ topic: 'orders', partition: 0, offset: 4 }] });
    assert.equal(c1.status, 200, c1.text);
    const bJoin = join('g2', { session_timeout_ms: 10_000 });
    await waitFor('rebalance begins', async () => (await post('/groups/g2/heartbeat', { member_id: a1.body.member_id, generation: a1.body.generation })).body?.error === 'REBALANCE_IN_PROGRESS', 10_000);
    const a2 = await join('g2', { member_id: a1.body.member_id, session_timeout_ms: 10_000 });
    const b = await bJoin;
    const stale = await post('/groups/g2/commit', { member_id: a1.body.member_id, generation: a1.body.generation, offsets: [{ topic: 'orders', partition: 0, offset: 9 }] });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error, 'ILLEGAL_GENERATION');
    const unknown = await post('/groups/g2/commit', { member_id: 'nobody', generation: a2.body.generation, offsets: [{ topic: 'orders', partition: 0, offset: 9 }] });
    assert.equal(unknown.body.error, 'UNKNOWN_MEMBER_ID');
    const past = await post('/groups/g2/commit', { member_id: b.body.member_id, generation: b.body.generation, offsets: [{ topic: 'orders', partition: 0, offset: 11 }] });
    assert.equal(past.status, 416);
    assert.equal(past.body.error, 'INVALID_COMMIT_OFFSET');
    const view = await get('/groups/g2');
    const p0 = view.body.offsets.find((o: { partition: number }) => o.partition === 0);
    assert.equal(p0.committed_offset, 4);
    assert.equal(p0.high_watermark, 10);
    assert.equal(p0.lag, 6);
    // A commit below the committed offset keeps the committed one.
    const back = await post('/groups/g2/commit', { member_id: b.body.member_id, generation: b.body.generation, offsets: [{ topic: 'orders', partition: 0, offset: 2 }] });
    assert.equal(back.body.offsets[0].committed_offset, 4);
    await post('/groups/g2/leave', { member_id: a1.body.member_id });
    await post('/groups/g2/leave', { member_id: b.body.member_id });
  });

  test('committed offsets and the group survive a SIGKILL of the leader; the member carries on with the new leader', async () => {
    const a = await join('g3', { session_timeout_ms: 20_000, rebalance_timeout_ms: 20_000 });
    const commit = await post('/groups/g3/commit', { member_id: a.body.member_id, generation: a.body.generation, offsets: [0, 1, 2, 3].map((p) => ({ topic: 'orders', partition: p, offset: p + 3 })) });
    assert.equal(commit.status, 200, commit.text);
    const { broker: old } = await cluster.waitForLeader();
    await old.kill();
    const next = await cluster.waitForLeader(20_000, old.id);
    const view = await waitFor('the new leader has read the groups back', async () => {
      const v = await call(next.broker.url, 'GET', '/groups/g3');
      return v.status === 200 ? v : null;
    }, 20_000);
    assert.deepEqual(view.body.offsets.map((o: { committed_offset: number }) => o.committed_offset), [3, 4, 5, 6]);
    assert.equal(view.body.generation, a.body.generation);
    const hb = await call(next.broker.url, 'POST', '/groups/g3/heartbeat', { member_id: a.body.member_id, generation: a.body.generation });
    assert.equal(hb.status, 200, hb.text);
    const c2 = await call(next.broker.url, 'POST', '/groups/g3/commit', { member_id: a.body.member_id, generation: a.body.generation, offsets: [{ topic: 'orders', partition: 0, offset: 10 }] });
    assert.equal(c2.status, 200, c2.text);
    old.start();
    await cluster.waitForInSync(3, 30_000);
    await post('/groups/g3/leave', { member_id: a.body.member_id });
  });

  test('committed offsets survive a restart of every broker with every key in Redis lost', async () => {
    const before = (await get('/groups/g3')).body.offsets;
    await Promise.all(cluster.brokers.map((b) => b.kill()));
    await cluster.redis.kill();
    await cluster.redis.wipe();
    await cluster.redis.launch();
    for (const b of cluster.brokers) b.start();
    await cluster.waitForLeader(30_000);
    await cluster.waitForInSync(3, 30_000);
    const after = await waitFor('groups read back', async () => {
      const v = await get('/groups/g3');
      return v.status === 200 ? v : null;
    }, 30_000);
    assert.deepEqual(after.body.offsets.map((o: { committed_offset: number }) => o.committed_offset), before.map((o: { committed_offset: number }) => o.committed_offset));
  });

  test('offsets are reset only while the group has no members: earliest, latest, a timestamp, an offset', async () => {
    const a = await join('g4', { session_timeout_ms: 10_000 });
    const refused = await post('/groups/g4/reset', { to: 'earliest', topic: 'orders' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'NON_EMPTY_GROUP');
    await post('/groups/g4/commit', { member_id: a.body.member_id, generation: a.body.generation, offsets: [{ topic: 'orders', partition: 1, offset: 8 }] });
    assert.equal((await post('/groups/g4/leave', { member_id: a.body.member_id })).status, 200);
    const earliest = await post('/groups/g4/reset', { to: 'earliest', topic: 'orders' });
    assert.equal(earliest.status, 200, earliest.text);
    assert.deepEqual(earliest.body.offsets.map((o: { committed_offset: number }) => o.committed_offset), [0, 0, 0, 0]);
    const latest = await post('/groups/g4/reset', { to: 'latest', topic: 'orders', partitions: [2] });
    assert.deepEqual(latest.body.offsets, [{ topic: 'orders', partition: 2, committed_offset: 10 }]);
    const future = await post('/groups/g4/reset', { to: 'timestamp', timestamp: Date.now() + 60_000, topic: 'orders', partitions: [3] });
    assert.equal(future.body.offsets[0].committed_offset, 10);
    const explicit = await post('/groups/g4/reset', { to: 'offset', offset: 5, topic: 'orders', partitions: [1] });
    assert.equal(explicit.body.offsets[0].committed_offset, 5);
    const tooFar = await post('/groups/g4/reset', { to: 'offset', offset: 11, topic: 'orders', partitions: [1] });
    assert.equal(tooFar.body.error, 'INVALID_COMMIT_OFFSET');
    const view = await get('/groups/g4');
    assert.deepEqual(view.body.offsets.map((o: { committed_offset: number }) => o.committed_offset), [0, 5, 10, 10]);
    assert.equal(view.body.lag, 10 + 5);
    const metrics = (await get('/metrics?format=prometheus')).text;
    assert.match(metrics, /^yak_group_lag\{group="g4"\} 15$/m);
    assert.match(metrics, /^yak_group_members\{group="g4"\} 0$/m);
  });

  test('the internal topic is hidden from /topics unless asked for, and only the coordinator writes it', async () => {
    const listed = (await get('/topics')).body.topics.map((t: { name: string }) => t.name);
    assert.ok(!listed.includes('__consumer_offsets'));
    const all = (await get('/topics?internal=true')).body.topics;
    assert.equal(all.find((t: { name: string }) => t.name === '__consumer_offsets')?.internal, true);
    const write = await post('/produce', { topic: '__consumer_offsets', payload: 1 });
    assert.equal(write.status, 400);
    const list = await get('/groups');
    assert.ok(list.body.groups.some((g: { group: string }) => g.group === 'g4'));
    const unknown = await get('/groups/nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'UNKNOWN_GROUP');
    const bad = await post('/groups/g5/join', { topics: [] });
    assert.equal(bad.body.error, 'INVALID_REQUEST');
  });
});
