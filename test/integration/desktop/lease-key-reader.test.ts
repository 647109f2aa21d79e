import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { clusterKeys } from '../../../broker-runtime/src/election/keys.js';
import { LeaseKeyReader } from '../../../src/main/supervisor/failover/lease-key-reader.js';
import { freePort } from '../../../testkit/ports.js';
import { DESKTOP_CLUSTER_ID } from '../../../src/main/supervisor/processes/specs.js';
import { RedisServer } from '../../../testkit/redis/server.js';

/** The supervisor's one read of the lease key right after a take-down (failover/lease-key-reader.ts), on a real Redis. */
describe('reading the old lease\'s end from Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start({ password: 'pw' });
  });
  after(async () => redis?.stop());
  const key = clusterKeys(DESKTOP_CLUSTER_ID).leader;

  it('reads the holder and its PTTL, timed by when the read was sent and answered', async () => {
    const r = new Redis(redis.url);
    try {
      await r.set(key, JSON.stringify({ id: 'broker-1', url: 'http://127.0.0.1:1', epoch: 7 }), 'PX', 2000);
      const setAt = Date.now();
      const reading = await new LeaseKeyReader(redis.url).readOnce();
      assert.ok(reading);
      assert.deepEqual(reading.holder, { id: 'broker-1', epoch: 7 });
      assert.ok(reading.sentAt <= reading.answeredAt);
      // The key goes at sentAt + PTTL, which is no later than a PX of 2000 from just before the SET returned.
      assert.ok(reading.pttlMs > 0 && reading.sentAt + reading.pttlMs <= setAt + 2000, `${reading.pttlMs} ms left`);

      await r.del(key);
      const gone = await new LeaseKeyReader(redis.url).readOnce();
      assert.deepEqual({ holder: gone?.holder, pttlMs: gone?.pttlMs }, { holder: null, pttlMs: -2 });
    } finally {
      r.disconnect();
    }
  });

  it('reads null, not an error, when Redis cannot be reached or refuses', async () => {
    assert.equal(await new LeaseKeyReader(`redis://127.0.0.1:${await freePort()}`).readOnce(), null);
    assert.equal(await new LeaseKeyReader(redis.url.replace(':pw@', ':wrong@')).readOnce(), null);
  });
});
