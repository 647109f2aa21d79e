import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterKeys } from '../../../broker-runtime/src/election/keys.js';
import { keySlot as calculateSlot } from '../../../testkit/redis/key-slot.js';

const keys = clusterKeys('orders-prod.eu');

/** The keys each script and MULTI of LeaseStore touches, as lease-store.ts passes them. */
const touched: Record<string, string[]> = {
  'acquire (ACQUIRE_LUA)': [keys.leader, keys.epoch, keys.isr, keys.frameKeys, keys.identity],
  'renew (RENEW_LUA)': [keys.leader],
  'release (RELEASE_LUA)': [keys.leader, keys.events],
  'in-sync set write (FENCED_SET_LUA)': [keys.leader, keys.isr],
  'hwm mirror (FENCED_HSET_LUA)': [keys.leader, keys.hwm],
  'topics mirror (FENCED_HSET_LUA)': [keys.leader, keys.topics],
  'readLeader (MULTI)': [keys.leader, keys.isr, keys.epoch],
  'register (MULTI, with STATE_HISTORY_LUA)': [keys.broker('b-1'), keys.brokers, keys.candidate('b-1'), keys.statedHistory],
  'listCandidates (MULTI)': [keys.brokers, keys.statedHistory],
  'listBrokers / listCandidates (MGET)': [keys.broker('b-1'), keys.broker('b.2'), keys.candidate('b-1'), keys.candidate('b_3')],
};

test('the slot function follows the Redis Cluster spec (CRC16 of 123456789 is 0x31C3; only the hash tag counts)', () => {
  assert.equal(calculateSlot('123456789'), 0x31c3 % 16384);
  assert.equal(calculateSlot('{user1000}.following'), calculateSlot('{user1000}.followers'));
  assert.equal(calculateSlot('foo{}{bar}'), calculateSlot('foo{}{bar}'), 'an empty tag means the whole key');
  assert.notEqual(calculateSlot('{}a'), calculateSlot('{}b'));
});

test('every key a script or MULTI touches is in one Redis Cluster slot (hash tag {cluster})', () => {
  const slot = calculateSlot(keys.leader);
  for (const [what, list] of Object.entries(touched)) {
    for (const key of list) assert.equal(calculateSlot(key), slot, `${what}: ${key}`);
  }
  assert.ok(keys.leader.startsWith('{orders-prod.eu}:'));
});

test('two clusters sharing a Redis get different keys (and, for these names, different slots)', () => {
  const other = clusterKeys('payments');
  assert.notEqual(other.leader, keys.leader);
  assert.notEqual(calculateSlot(other.leader), calculateSlot(keys.leader));
});

test('the lease key of versions before the hash tag is still known, to detect an old broker', () => {
  assert.equal(keys.legacyLeader, 'orders-prod.eu:leader');
});
