import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster, type Redis } from 'ioredis';
import { clusterKeys } from '../../../broker-runtime/src/election/keys.js';
import { LeaseStore } from '../../../broker-runtime/src/election/lease-store.js';
import { ACQUIRE_LUA } from '../../../broker-runtime/src/election/scripts.js';
import { MAX_LEADER_EPOCH } from '../../../broker-runtime/src/election/epoch-range.js';
import { keySlot } from '../../../testkit/redis/key-slot.js';
import { RedisClusterWorld } from '../../../testkit/redis/cluster.js';

/**
 * The election's scripts and transactions on a real 3-master Redis Cluster (redis-server
 * --cluster-enabled yes, joined by redis-cli --cluster create), through ioredis's Cluster client:
 * the hash tag {<cluster>} puts every key of a YAK cluster in one slot.
 */
describe('Redis Cluster', () => {
  let world: RedisClusterWorld;
  const clients: Cluster[] = [];
  const stores: LeaseStore[] = [];
  const cluster = () => {
    const c = new Cluster(world.nodes(), { redisOptions: { commandTimeout: 3000 }, clusterRetryStrategy: (n) => Math.min(100 * n, 1000) });
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  // LeaseStore is written against ioredis's Redis; a Cluster client offers the same commands.
  const store = (name: string) => {
    const s = new LeaseStore({ url: 'redis://unused', sentinels: [], masterName: 'mymaster', tls: {} }, clusterKeys(name), 3000, 0, () => cluster() as unknown as Redis);
    stores.push(s);
    return s;
  };

  before(async () => {
    world = await RedisClusterWorld.start(3);
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => {})));
    for (const c of clients) c.disconnect();
    await world?.stop();
  });

  test('our slot function agrees with the servers (CLUSTER KEYSLOT), and the keys of different clusters land on different masters', async () => {
    const c = cluster();
    for (const name of ['yak', 'orders', 'payments-eu.1', 'x']) {
      const k = clusterKeys(name);
      for (const key of [k.leader, k.epoch, k.isr, k.broker('b1')]) assert.equal(Number(await c.cluster('KEYSLOT', key)), keySlot(key), key);
    }
    const owners = new Set<string>();
    for (const name of ['yak', 'orders', 'payments', 'audit', 'a', 'b', 'c', 'd']) {
      const slot = keySlot(clusterKeys(name).leader);
      const slots = await c.cluster('SLOTS');
      const owner = slots.find(([from, to]) => slot >= from && slot <= to)!;
      owners.add(String(owner[2]?.[1]));
    }
    assert.ok(owners.size >= 2, 'the test clusters are spread over the masters (the scripts do not just happen to hit one node)');
  });

  test('acquire, renew, in-sync set, mirrors, registration, candidacies, release and re-election all run', async () => {
    for (const name of ['yak', 'orders', 'payments', 'audit']) {
      const s = store(name);
      const first = await s.acquire('b1', 'http://b1', 5000, 0, 'recover', 'aa'.repeat(32));
      assert.ok(first.won, `${name}: ${JSON.stringify(first)}`);
      if (!first.won) return;
      assert.equal(first.epoch, 1);
      assert.equal(await s.renew(first.value, 5000), true);
      assert.equal(await s.writeIsr(first.value, { epoch: 1, version: 1, members: ['b1', 'b2'] }), 'recorded');
      assert.equal(await s.mirrorHash(first.value, 'hwm', new Map([['t/0', 7]])), true);
      assert.equal(await s.mirrorHash(first.value, 'topics', new Map([['t', 3]])), true);
      await s.register({ id: 'b2', url: 'http://b2' }, 5000, { id: 'b2', highestEpoch: 1, lastLogEpoch: 1, logEndTotal: 7 });
      await s.register({ id: 'b1', url: 'http://b1' }, 5000, null);
      assert.deepEqual(await s.listBrokers(), [{ id: 'b1', url: 'http://b1', alive: true }, { id: 'b2', url: 'http://b2', alive: true }]);
      const listed = await s.listCandidates();
      assert.deepEqual(listed.candidates.map((c) => c.id), ['b2']);
      assert.deepEqual(listed.stated, { highestEpoch: 1, isr: null }, 'the stated history (STATE_HISTORY_LUA) runs in the MULTI on a Redis Cluster too');
      const seen = await s.readLeader();
      assert.equal(seen.holder?.id, 'b1');
      assert.equal(seen.epochCounter, 1);
      assert.deepEqual(seen.isr?.members, ['b1', 'b2']);
      assert.equal(await s.frameKey(1), 'aa'.repeat(32));
      assert.equal(await s.legacyLeaseHeld(), false);
      assert.equal(await s.release(first.value), true);
      const outsider = await s.acquire('b3', 'http://b3', 5000, 0, 'isr', 'bb'.repeat(32));
      assert.deepEqual(outsider, { won: false, reason: 'not-in-sync' });
      const second = await s.acquire('b2', 'http://b2', 5000, 0, 'isr', 'cc'.repeat(32));
      assert.ok(second.won && second.epoch === 2, JSON.stringify(second));
      assert.equal(await s.renew(first.value, 5000), false, 'the old lease is fenced off');
      assert.equal(await s.writeIsr(first.value, { epoch: 1, version: 2, members: ['b1'] }), 'lease-lost');
    }
  });

  test('without the hash tag (the key names before it) the acquire script is refused: CROSSSLOT', async () => {
    const c = cluster();
    const old = ['legacy:leader', 'legacy:epoch', 'legacy:isr', 'legacy:frame-keys'];
    assert.ok(new Set(old.map(keySlot)).size > 1);
    await assert.rejects(c.eval(ACQUIRE_LUA, 4, ...old, 'b1', 'http://b1', 5000, 0, 'recover', 'aa', MAX_LEADER_EPOCH), /CROSSSLOT/);
  });
});
