import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { clusterKeys } from '../../../broker-runtime/src/election/keys.js';
import { LeaseStore } from '../../../broker-runtime/src/election/lease-store.js';
import { RedisServer } from '../../../testkit/redis/server.js';

/**
 * Producer ids for idempotent Kafka producers are counted in Redis under the lease's epoch
 * (PRODUCER_ID_LUA), so every broker may give them out and none is given twice — against a real
 * redis-server.
 */
describe('producer ids counted in Redis', () => {
  let redis: RedisServer;
  let direct: Redis;
  const keys = clusterKeys('pid-test');
  const stores: LeaseStore[] = [];
  const store = (): LeaseStore => {
    const s = new LeaseStore({ url: redis.url, sentinels: [], masterName: 'mymaster', tls: {} }, keys, 3000);
    stores.push(s);
    return s;
  };
  const lease = (epoch: number) => direct.set(keys.leader, JSON.stringify({ id: 'b1', url: 'http://127.0.0.1:1', epoch }));

  before(async () => {
    redis = await RedisServer.start();
    direct = new Redis(redis.url);
  });
  after(async () => {
    for (const s of stores) await s.close();
    direct.disconnect();
    await redis.stop();
  });

  test('without a lease none is given, with the reason', async () => {
    await assert.rejects(store().nextProducerId(), /no broker holds the leader lease/);
  });

  test('brokers asking at once never get the same pair; the count starts again under a newer epoch', async () => {
    await lease(4);
    const a = store();
    const b = store();
    const pairs = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).nextProducerId()));
    assert.ok(pairs.every((p) => p.epoch === 4));
    assert.deepEqual(pairs.map((p) => p.n).sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i));
    await lease(5);
    assert.deepEqual(await a.nextProducerId(), { epoch: 5, n: 0 });
    assert.deepEqual(await b.nextProducerId(), { epoch: 5, n: 1 });
  });

  test('a lease older than the epoch already counted is refused, not counted again from 0', async () => {
    await lease(3);
    await assert.rejects(store().nextProducerId(), /newer epoch than the lease/);
    assert.equal(await direct.hget(keys.producerIds, 'next'), '2', 'the count of epoch 5 is kept');
  });
});
