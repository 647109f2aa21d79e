import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrokerProcess } from '../../../testkit/broker/process.js';
import { get, post } from '../../../testkit/http.js';
import { freePort } from '../../../testkit/ports.js';
import { waitFor } from '../../../testkit/wait.js';
import { RedisServer } from '../../../testkit/redis/server.js';

/**
 * Issue 16, item 3: a wrong advertised URL used to fail silently — the leader's replication to it
 * failed at debug level and the broker's /health said ok. Now the broker checks at start that its
 * advertised URL reaches this very process, the leader warns (once) naming the URL it cannot reach,
 * and the follower it cannot reach says so in /health.
 */
describe('a wrong advertised URL is named, not silent', () => {
  let redis: RedisServer;
  let dir: string;
  const brokers: BrokerProcess[] = [];

  before(async () => {
    redis = await RedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'yak-advertised-'));
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.kill()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const broker = async (cluster: string, id: string, advertised?: (port: number) => string) => {
    const port = await freePort();
    const b = new BrokerProcess({
      id,
      port,
      dataDir: join(dir, cluster, id),
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      cluster,
      leaseSeconds: 2,
      renewSeconds: 0.5,
      partitions: 1,
      extra: advertised ? ['--advertised-url', advertised(port)] : [],
    });
    b.start();
    brokers.push(b);
    await waitFor(`${id} listening`, () => get(b.url, '/health', 1000).then(() => true).catch(() => false), 15_000, 100);
    return b;
  };
  const check = async (b: BrokerProcess) => {
    return waitFor(`${b.id}'s advertised URL check`, async () => {
      const h = (await get(b.url, '/health')).body;
      return h.advertised_url.check !== 'pending' ? h.advertised_url : null;
    }, 15_000, 100);
  };

  test('a correct advertised URL checks out, with no warning', async () => {
    const b = await broker('good', 'g1');
    assert.equal((await check(b)).check, 'ok');
    assert.ok(!b.tail(200).includes('advertised URL'), b.tail(20));
  });

  test('an advertised host name that does not resolve: one warning naming the flags', async () => {
    const b = await broker('dns', 'd1', (port) => `http://no-such-host.invalid:${port}`);
    const seen = await check(b);
    assert.equal(seen.check, 'unreachable', JSON.stringify(seen));
    const warnings = b.output.filter((l) => l.includes('WARN') && l.includes('the advertised URL http://no-such-host.invalid'));
    assert.equal(warnings.length, 1, b.tail(20));
    assert.match(warnings[0]!, /--advertised-url \(YAK_ADVERTISED_URL\)/);
    assert.match(warnings[0]!, /--host \(YAK_HOST, now 127\.0\.0\.1\)/);
  });

  test('an advertised URL that leads to another broker is named as such', async () => {
    const other = await broker('other', 'o1');
    const b = await broker('other', 'o2', () => other.url);
    const seen = await check(b);
    assert.equal(seen.check, 'other-broker');
    assert.match(seen.detail ?? '', /broker o1 answered/);
    assert.ok(b.output.some((l) => l.includes('WARN') && l.includes(`the advertised URL ${other.url} leads somewhere else`)), b.tail(20));
  });

  test('a follower the leader cannot reach: the leader warns naming the URL, the follower is degraded in /health', async () => {
    const leader = await broker('cut', 'c1');
    await waitFor('c1 leads', async () => (await get(leader.url, '/health')).body.role === 'leader', 15_000, 100);
    const deadPort = await freePort();
    const follower = await broker('cut', 'c2', () => `http://127.0.0.1:${deadPort}`);
    assert.equal((await check(follower)).check, 'unreachable');
    await waitFor('the leader names the unreachable follower', () => leader.output.some((l) => l.includes('WARN') && l.includes(`cannot reach follower c2 at http://127.0.0.1:${deadPort}`)), 15_000, 100);
    const health = await waitFor('c2 degraded', async () => {
      const h = (await get(follower.url, '/health')).body;
      return h.status === 'degraded' ? h : null;
    }, 15_000, 100);
    assert.equal(health.role, 'follower');
    assert.match(health.degraded_reasons.join(' '), /no replication from leader c1/);
    assert.equal((await get(follower.url, '/ready')).status, 503);
    // Still writable with the follower out of the in-sync set; one warning, not one per frame.
    assert.equal((await post(leader.url, '/produce', { topic: 't', payload: 1 })).status, 200);
    const warnings = leader.output.filter((l) => l.includes('cannot reach follower c2'));
    assert.equal(warnings.length, 1, leader.tail(20));
  });
});
