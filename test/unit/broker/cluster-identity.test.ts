import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkClusterIdentity, otherClusterLine } from '../../../broker-runtime/src/broker/cluster-identity.js';

/** A namespace's identity key and a data folder's memory, in memory (the real ones are Redis and broker-state.json). */
function ports(inRedis: string | null, remembered: string | null, leading: boolean) {
  const world = { inRedis, remembered };
  return {
    world,
    ports: {
      remembered,
      leading,
      read: async () => world.inRedis,
      claim: async (id: string) => (world.inRedis ??= id),
      remember: async (id: string) => void (world.remembered = id),
    },
  };
}

describe('cluster identity', () => {
  test('a folder that remembers the identity Redis holds belongs here', async () => {
    assert.deepEqual(await checkClusterIdentity(ports('u', 'u', false).ports), { state: 'ok', identity: 'u' });
  });

  test('a new folder adopts the identity Redis holds', async () => {
    const p = ports('u', null, false);
    assert.deepEqual(await checkClusterIdentity(p.ports), { state: 'ok', identity: 'u' });
    assert.equal(p.world.remembered, 'u');
  });

  test('a folder of another cluster is named as such', async () => {
    assert.deepEqual(await checkClusterIdentity(ports('v', 'u', true).ports), { state: 'other-cluster', remembered: 'u', found: 'v' });
  });

  test('a follower never names an empty namespace (it may be a new cluster whose leader has not named it yet)', async () => {
    const p = ports(null, 'u', false);
    assert.deepEqual(await checkClusterIdentity(p.ports), { state: 'unknown' });
    assert.equal(p.world.inRedis, null);
  });

  test('a leader gives an emptied Redis back the identity it remembers, or names a new cluster', async () => {
    const back = ports(null, 'u', true);
    assert.deepEqual(await checkClusterIdentity(back.ports), { state: 'ok', identity: 'u' });
    assert.equal(back.world.inRedis, 'u');
    const fresh = ports(null, null, true);
    const v = await checkClusterIdentity(fresh.ports);
    assert.equal(v.state, 'ok');
    assert.equal(fresh.world.inRedis, fresh.world.remembered);
  });

  test('the line names the folder, the flags and how to fix it', () => {
    const line = otherClusterLine({ remembered: 'u', found: 'v' }, { dataDir: '/d', redis: 'redis://r:6379', cluster: 'c', identityKey: '{c}:cluster-uuid' });
    for (const part of ['/d (--data-dir)', '--redis redis://r:6379', '--cluster c', 'identity u', 'identity v', "redis-cli SET '{c}:cluster-uuid' u"]) assert.ok(line.includes(part), part);
  });
});
