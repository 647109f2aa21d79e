import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DESKTOP_CLUSTER_ID } from '../../../src/main/supervisor/processes/specs.js';
import { wipeExternalRedis } from '../../../src/main/supervisor/processes/wipe.js';
import { RedisServer } from '../../../testkit/redis/server.js';

describe('wiping the desktop cluster from an external Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => redis?.stop());

  it('deletes the cluster keys under both names (hash-tagged, and the names before hash tags) and nothing else', async () => {
    const r = new Redis(redis.url);
    try {
      const id = DESKTOP_CLUSTER_ID;
      await r.mset(`{${id}}:epoch`, '4', `{${id}}:broker:b1`, '{}', `${id}:leader`, 'old', `{other}:epoch`, '9', `other:leader`, 'x', `${id}x:epoch`, '1');
      assert.equal(await wipeExternalRedis(redis.url), 3);
      assert.deepEqual((await r.keys('*')).sort(), ['other:leader', `${id}x:epoch`, '{other}:epoch'].sort());
    } finally {
      r.disconnect();
    }
  });
});
