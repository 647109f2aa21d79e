import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';
import { checkAcked, readAll, waitForEqualHwm, type Acked } from '../../../testkit/broker/verify.js';

/**
 * Upgrading from the key names before hash tags (`<cluster>:…`) to `{<cluster>}:…`: the README
 * says to stop every broker, then start them all on the new version.
 */
describe('key names before hash tags', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  test('a cluster restarted on the new names, with only old-named keys in Redis, recovers: higher epoch, nothing acknowledged lost; an old broker holding the old lease keeps the new ones from leading', async (t) => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 1, renewSeconds: 0.2 });
    const client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, retry: { retries: 200, minDelayMs: 20, maxDelayMs: 200 } });
    const acked: Acked[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await client.produce('upgrade', { payload: { i } });
      acked.push({ partition: r.partition, offset: r.offset, payload: { i } });
    }
    const { epoch: before } = await cluster.waitForLeader();
    for (const b of cluster.brokers) await b.stop();

    // What an old version left behind: every key under its old name, none under the new one —
    // and an old broker still holding the lease.
    const r = new Redis(cluster.redis.url);
    try {
      for (const key of await r.keys('{*}:*')) await r.rename(key, key.replace(/^\{([^}]+)\}:/, '$1:'));
      const [epochKey] = await r.keys('*:epoch');
      const name = epochKey!.slice(0, -':epoch'.length);
      await r.set(`${name}:leader`, JSON.stringify({ id: 'old', url: 'http://127.0.0.1:1', epoch: before }), 'PX', 60_000);
      for (const b of cluster.brokers) b.start();
      await waitFor('a broker to refuse the lease while an old broker holds it', () => cluster!.brokers.some((b) => b.output.some((l) => l.includes('a broker of an older YAK version holds it'))), 30_000);
      for (const b of cluster.brokers) assert.notEqual((await get(b.url, '/health')).body.role, 'leader');
      // The old broker is stopped: its lease goes.
      await r.del(`${name}:leader`);
    } finally {
      r.disconnect();
    }
    const { epoch: after } = await cluster.waitForLeader(30_000);
    t.diagnostic(`epoch ${before} before the upgrade, ${after} after`);
    assert.ok(after > before);
    await cluster.waitForInSync(3, 30_000);
    for (let i = 30; i < 40; i++) {
      const res = await client.produce('upgrade', { payload: { i } });
      acked.push({ partition: res.partition, offset: res.offset, payload: { i } });
    }
    await waitForEqualHwm(cluster.urls(), 'upgrade');
    for (const b of cluster.brokers) assert.deepEqual(checkAcked(b.id, await readAll(b.url, 'upgrade'), acked).slice(0, 10), []);
  });
});
