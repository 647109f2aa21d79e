import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrokerProcess } from '../../../testkit/broker/process.js';
import { get } from '../../../testkit/http.js';
import { freePort } from '../../../testkit/ports.js';
import { RedisServer } from '../../../testkit/redis/server.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * Several machines share one Redis, often one run for other things too: a Redis with a memory
 * limit and an eviction policy (maxmemory-policy allkeys-lru, or volatile-*, which evicts exactly
 * the keys with an expiry: the lease and the registrations) may drop the lease, the epoch counter or
 * the in-sync set when it fills up — a second leader while the first still writes, an epoch handed
 * out again. Before, nothing said so. Now every broker logs one warning naming the setting, its
 * value and the fix; a Redis without a memory limit, or with noeviction, gets no warning.
 */
describe('a Redis that may evict the cluster\'s keys', () => {
  let dir: string;
  const brokers: BrokerProcess[] = [];
  const redises: RedisServer[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yak-eviction-'));
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.kill()));
    await Promise.all(redises.map((r) => r.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  const brokerOn = async (args: string[], id: string) => {
    const redis = await RedisServer.start({ extraArgs: args });
    redises.push(redis);
    const b = new BrokerProcess({
      id,
      port: await freePort(),
      dataDir: join(dir, id),
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      cluster: 'ev',
      leaseSeconds: 2,
      renewSeconds: 0.5,
      partitions: 1,
    });
    b.start();
    brokers.push(b);
    await waitFor(`${id} leads`, async () => (await get(b.url, '/health', 1000).catch(() => null))?.body.role === 'leader', 20_000, 100);
    return b;
  };

  test('allkeys-lru with a memory limit: one warning naming maxmemory-policy and the fix', async () => {
    const b = await brokerOn(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'], 'lru');
    const line = await waitFor('the eviction warning', () => b.output.find((l) => l.includes('maxmemory-policy')), 10_000, 100);
    assert.match(line, /WARN/);
    assert.match(line, /maxmemory-policy allkeys-lru/);
    assert.match(line, /noeviction/);
    assert.ok(line.includes('leader lease'), line);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(b.output.filter((l) => l.includes('maxmemory-policy')).length, 1, b.tail(20));
  });

  test('volatile-ttl evicts the keys with an expiry, the lease among them: warned too', async () => {
    const b = await brokerOn(['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-ttl'], 'vttl');
    await waitFor('the eviction warning', () => b.output.find((l) => l.includes('maxmemory-policy volatile-ttl')), 10_000, 100);
  });

  test('noeviction, or no memory limit: no warning', async () => {
    const a = await brokerOn(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction'], 'noev');
    const c = await brokerOn(['--maxmemory-policy', 'allkeys-lru'], 'nolimit');
    await new Promise((r) => setTimeout(r, 3000));
    for (const b of [a, c]) assert.ok(!b.output.some((l) => l.includes('maxmemory')), b.tail(20));
  });
});
