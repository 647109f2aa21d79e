import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { clusterKeys } from '../../../broker-runtime/src/election/keys.js';
import { LeaseStore } from '../../../broker-runtime/src/election/lease-store.js';
import { RedisServer } from '../../../testkit/redis/server.js';

/**
 * What a broker does with values in Redis that no broker wrote (security review): a truncated or
 * hand-edited key, a tool of another version. Each is one key of one broker; it must not stop the
 * whole cluster from electing a leader or finding its brokers. Against a real redis-server.
 */
describe('hostile values in the cluster\'s Redis keys', () => {
  let redis: RedisServer;
  let direct: Redis;
  const keys = clusterKeys('hostile-values');
  let store: LeaseStore;
  const candidacy = (id: string, logEndTotal: number) => JSON.stringify({ id, highestEpoch: 2, lastLogEpoch: 2, logEndTotal, isr: { epoch: 2, members: ['b1', 'b2'], version: 1 } });

  before(async () => {
    redis = await RedisServer.start();
    direct = new Redis(redis.url);
    store = new LeaseStore({ url: redis.url, sentinels: [], masterName: 'mymaster', tls: {} }, keys, 3000);
  });
  beforeEach(async () => {
    await direct.flushall();
  });
  after(async () => {
    await store?.close();
    direct?.disconnect();
    await redis?.stop();
  });

  test('a registration that is not JSON, or has fields of the wrong type, leaves the other brokers listed', async () => {
    await direct.sadd(keys.brokers, 'b1', 'b2', 'b3', 'b4');
    await direct.set(keys.broker('b1'), JSON.stringify({ id: 'b1', url: 'http://127.0.0.1:5001', kafka: { node_id: 1, host: '127.0.0.1', port: 9092 } }));
    await direct.set(keys.broker('b2'), '{"id":"b2","url":"http://127.0.0.1:50'); // cut short
    await direct.set(keys.broker('b3'), JSON.stringify({ id: 'b3', url: 5002, kafka: { node_id: 'x', host: 7, port: 1e9 }, short: { logEndTotal: 'lots' } }));
    await direct.set(keys.broker('b4'), JSON.stringify(['not', 'an', 'object']));
    const brokers = await store.listBrokers();
    assert.deepEqual(brokers.map((b) => b.id), ['b1', 'b2', 'b3', 'b4']);
    assert.deepEqual(brokers[0], { id: 'b1', url: 'http://127.0.0.1:5001', alive: true, kafka: { node_id: 1, host: '127.0.0.1', port: 9092 } });
    for (const b of brokers.slice(1)) {
      assert.equal(b.url, null, `${b.id}: no usable URL`);
      assert.equal(b.kafka, undefined, `${b.id}: no Kafka address`);
      assert.equal(b.short, undefined, `${b.id}: no short report`);
    }
  });

  test('a candidacy that is not JSON, or whose numbers are not numbers, is left out; the others still count', async () => {
    await direct.sadd(keys.brokers, 'b1', 'b2', 'b3', 'b4');
    await direct.set(keys.candidate('b1'), candidacy('b1', 10));
    await direct.set(keys.candidate('b2'), 'garbage');
    await direct.set(keys.candidate('b3'), JSON.stringify({ id: 'b3', highestEpoch: 2, lastLogEpoch: '99', logEndTotal: null }));
    // A candidacy stored under b4's key that names b1: it would count twice for b1.
    await direct.set(keys.candidate('b4'), candidacy('b1', 1_000_000));
    const listed = await store.listCandidates();
    assert.deepEqual(listed.candidates.map((c) => [c.id, c.logEndTotal]), [['b1', 10]]);
  });

  test('an in-sync set that is not JSON reads as none, and a broker may still take the lease to recover (no Lua error)', async () => {
    await direct.set(keys.isr, '{"epoch":3,"members":'); // cut short
    assert.equal((await store.readLeader()).isr, null);
    const won = await store.acquire('b1', 'http://127.0.0.1:5001', 5000, 3, 'recover', 'a'.repeat(43));
    assert.equal(won.won, true, JSON.stringify(won));
    assert.ok(won.won && won.epoch === 4 && won.isr?.members.join() === 'b1', JSON.stringify(won));
  });

  test('an in-sync set whose members are not a list of ids: refused in isr mode with a reason, not a Lua error', async () => {
    await direct.set(keys.isr, JSON.stringify({ epoch: 3, members: 'b1' }));
    const refused = await store.acquire('b1', 'http://127.0.0.1:5001', 5000, 3, 'isr', 'a'.repeat(43));
    assert.equal(refused.won, false);
    await direct.set(keys.isr, JSON.stringify({ epoch: 3, members: ['b2', 7, 'b1'] }));
    assert.deepEqual((await store.readLeader()).isr?.members, ['b2', 'b1'], 'ids only');
    const unclean = await store.acquire('b3', 'http://127.0.0.1:5003', 5000, 3, 'unclean', 'a'.repeat(43));
    assert.equal(unclean.won, true, JSON.stringify(unclean));
  });

  test('a stated history whose in-sync set is garbage does not stop registrations from stating new ones', async () => {
    await direct.hset(keys.statedHistory, 'isr', 'garbage', 'epoch', '2');
    await store.register({ id: 'b1', url: 'http://127.0.0.1:5001' }, 5000, { id: 'b1', highestEpoch: 3, lastLogEpoch: 3, logEndTotal: 5, isr: { epoch: 3, members: ['b1'], version: 1 } });
    const listed = await store.listCandidates();
    assert.deepEqual(listed.stated, { highestEpoch: 3, isr: { epoch: 3, members: ['b1'], version: 1 } });
  });
  test('a lease with no expiry (no broker sets one) does not hold the cluster leaderless for good; one with an expiry is waited out', async () => {
    await direct.set(keys.leader, JSON.stringify({ id: 'b9', url: 'http://127.0.0.1:5009', epoch: 7 }));
    assert.equal((await store.readLeader()).holder, null, 'a lease without expiry names no holder');
    await direct.set(keys.leader, 'garbage');
    const held = await store.acquire('b1', 'http://127.0.0.1:5001', 5000, 0, 'recover', 'a'.repeat(43));
    assert.equal(held.won, true, `a lease without expiry is not one a broker holds: ${JSON.stringify(held)}`);
    await direct.del(keys.leader);
    await direct.set(keys.leader, JSON.stringify({ id: 'b9', url: 'http://127.0.0.1:5009', epoch: 7 }), 'PX', 60_000);
    const waiting = await store.acquire('b1', 'http://127.0.0.1:5001', 5000, 0, 'recover', 'a'.repeat(43));
    assert.deepEqual(waiting, { won: false, reason: 'held' });
  });
});
