import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '../../../broker-runtime/src/routing/partitioner.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call, get, post } from '../../../testkit/http.js';

/** The HTTP contract of DESIGN.md against a real 3-broker cluster and a real redis-server. */
describe('broker API on a 3-broker cluster', () => {
  let cluster: TestCluster;
  let leader: string;
  let follower: string;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3 });
    const l = await cluster.waitForLeader();
    leader = l.broker.url;
    follower = cluster.brokers.find((b) => b.url !== leader)!.url;
  });
  after(async () => cluster?.stop());

  test('a produced record is consumed with exact content, offset and headers', async () => {
    const payload = { order: 42, items: ['a', 'ü', '😀'], nested: { ok: true, n: null } };
    const p = await post(leader, '/produce', { topic: 'orders', key: 'customer-7', payload, partition: 1, headers: { source: 'test' } });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.body, { topic: 'orders', partition: 1, offset: 0 });
    const c = await get(leader, '/consume?topic=orders&partition=1&offset=0');
    assert.equal(c.status, 200);
    assert.equal(c.body.records.length, 1);
    const r = c.body.records[0];
    assert.deepEqual({ offset: r.offset, key: r.key, payload: r.payload, headers: r.headers }, { offset: 0, key: 'customer-7', payload, headers: { source: 'test' } });
    assert.equal(typeof r.timestamp, 'number');
    assert.equal(c.body.next_offset, 1);
    assert.equal(c.body.high_watermark, 1);
  });

  test('offsets in a partition are contiguous from 0, batch results are in request order', async () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ payload: { i }, partition: 2 }));
    const b = await post(leader, '/produce/batch', { topic: 'seq', records });
    assert.equal(b.status, 200, b.text);
    assert.deepEqual(b.body.results.map((r: { offset: number }) => r.offset), records.map((_, i) => i));
    const single = await post(leader, '/produce', { topic: 'seq', payload: 'x', partition: 2 });
    assert.equal(single.body.offset, 50);
    const c = await get(leader, '/consume?topic=seq&partition=2&offset=0&max=1000');
    assert.deepEqual(c.body.records.map((r: { offset: number }) => r.offset), Array.from({ length: 51 }, (_, i) => i));
    assert.deepEqual(c.body.records.slice(0, 50).map((r: { payload: { i: number } }) => r.payload.i), records.map((_, i) => i));
  });

  test('a keyed record lands where Kafka\'s default partitioner puts it', async () => {
    for (const key of ['alpha', 'beta', 'gamma', '21', 'foobar']) {
      const p = await post(leader, '/produce', { topic: 'keyed', key, payload: 1 });
      assert.equal(p.body.partition, partitionForKey(key, 3), key);
    }
  });

  test('keyless records are spread over the partitions', async () => {
    const b = await post(leader, '/produce/batch', { topic: 'spread', records: Array.from({ length: 9 }, () => ({ payload: 0 })) });
    const parts = new Set(b.body.results.map((r: { partition: number }) => r.partition));
    assert.equal(parts.size, 3);
  });

  test('a follower refuses produce with 421 NOT_LEADER naming the leader, and serves committed reads', async () => {
    const p = await post(follower, '/produce', { topic: 'orders', payload: 1 });
    assert.equal(p.status, 421);
    assert.equal(p.body.error, 'NOT_LEADER');
    assert.equal(p.body.leader.url, leader);
    const c = await call(follower, 'GET', '/consume?topic=orders&partition=1&offset=0&wait_ms=3000');
    assert.equal(c.status, 200);
    assert.equal(c.body.records[0].payload.order, 42);
  });

  test('a long poll returns as soon as a record commits', async () => {
    const started = Date.now();
    const poll = get(leader, '/consume?topic=poll&partition=0&offset=0&wait_ms=10000');
    await post(leader, '/topics', { name: 'poll', partitions: 1 }).catch(() => {});
    setTimeout(() => void post(leader, '/produce', { topic: 'poll', payload: 'wake', partition: 0 }), 300);
    const c = await poll.catch(() => null);
    // The topic may not exist yet when the poll arrives (404); then poll again, now that it exists.
    const answer = c && c.status === 200 ? c : await get(leader, '/consume?topic=poll&partition=0&offset=0&wait_ms=10000');
    assert.equal(answer.body.records[0]?.payload, 'wake');
    assert.ok(Date.now() - started < 9000, 'returned before the wait ran out');
  });

  test('POST /topics creates a topic on every broker; a second time is 409 TOPIC_EXISTS', async () => {
    const created = await post(leader, '/topics', { name: 'made', partitions: 5 });
    assert.equal(created.status, 201, created.text);
    for (const b of cluster.brokers) {
      const t = await get(b.url, '/topics');
      const made = t.body.topics.find((x: { name: string }) => x.name === 'made');
      assert.equal(made?.partitions.length, 5, `${b.id} knows the topic`);
    }
    const again = await post(leader, '/topics', { name: 'made', partitions: 5 });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'TOPIC_EXISTS');
  });

  test('metadata: leader, cluster with every broker in sync, health, metrics in JSON and Prometheus text', async () => {
    const l = await get(follower, '/metadata/leader');
    assert.equal(l.body.leader.url, leader);
    assert.ok(l.body.epoch >= 1);
    const c = await get(follower, '/metadata/cluster');
    assert.equal(c.body.brokers.length, 3);
    assert.equal(c.body.brokers.filter((b: { role: string }) => b.role === 'leader').length, 1);
    const h = await get(leader, '/health');
    assert.equal(h.body.role, 'leader');
    const m = await get(leader, '/metrics');
    assert.ok(Object.keys(m.body).some((k) => k.startsWith('records_in_total')));
    const prom = await call(leader, 'GET', '/metrics?format=prometheus');
    assert.match(prom.text, /# TYPE yak_records_in_total counter/);
  });

  test('every refused request answers its error code and changes nothing', async () => {
    const before = (await get(leader, '/topics')).body;
    const big = 'x'.repeat(1024 * 1024 + 10);
    const cases: [string, string, unknown, number, string, string?][] = [
      ['POST', '/produce', undefined, 400, 'INVALID_JSON', '{"topic": "orders", '],
      ['POST', '/produce', { payload: 1 }, 400, 'INVALID_REQUEST'],
      ['POST', '/produce', { topic: 'bad topic!', payload: 1 }, 400, 'INVALID_REQUEST'],
      ['POST', '/produce', { topic: 'orders', payload: 1, partition: -1 }, 400, 'INVALID_REQUEST'],
      ['POST', '/produce', { topic: 'orders', payload: 1, partition: 1.5 }, 400, 'INVALID_REQUEST'],
      ['POST', '/produce', { topic: 'orders', payload: 1, partition: 99 }, 404, 'UNKNOWN_PARTITION'],
      ['POST', '/produce', { topic: 'orders', payload: big }, 413, 'MESSAGE_TOO_LARGE'],
      ['POST', '/produce/batch', { topic: 'orders', records: [{ payload: 1 }, { payload: 2, partition: 7 }] }, 404, 'UNKNOWN_PARTITION'],
      ['POST', '/produce/batch', { topic: 'orders', records: [] }, 400, 'INVALID_REQUEST'],
      ['GET', '/consume?topic=nope&partition=0&offset=0', undefined, 404, 'UNKNOWN_TOPIC'],
      ['GET', '/consume?topic=orders&partition=9&offset=0', undefined, 404, 'UNKNOWN_PARTITION'],
      ['GET', '/consume?topic=orders&partition=0&offset=-1', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/consume?topic=orders&partition=0&offset=1.5', undefined, 400, 'INVALID_REQUEST'],
      ['POST', '/topics', { name: 'orders', partitions: 0 }, 400, 'INVALID_REQUEST'],
    ];
    for (const [method, path, body, status, code, raw] of cases) {
      const a = await call(leader, method, path, body, raw);
      assert.equal(a.status, status, `${method} ${path} ${raw ?? JSON.stringify(body)?.slice(0, 80)} -> ${a.text.slice(0, 200)}`);
      assert.equal(a.body?.error, code);
      assert.equal(typeof a.body?.message, 'string');
    }
    const afterTopics = (await get(leader, '/topics')).body;
    assert.deepEqual(afterTopics, before, 'no topic, offset or high-water mark changed');
  });
});
