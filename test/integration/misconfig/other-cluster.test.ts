import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrokerProcess } from '../../../testkit/broker/process.js';
import { get, produceToNewLeader } from '../../../testkit/http.js';
import { freePort } from '../../../testkit/ports.js';
import { RedisServer } from '../../../testkit/redis/server.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * Several machines: a broker whose data folder holds another cluster's logs, started against a
 * cluster it never belonged to — a broker pointed at the wrong Redis (or Redis database), two
 * clusters sharing one Redis under the default --cluster yak, a disk copied from another cluster.
 * Before, it joined as a follower and the other cluster's leader cut its logs to match its own:
 * records this cluster had acknowledged were silently replaced. Now every cluster has an identity
 * (a random id in Redis, remembered in each broker's broker-state.json), and a broker whose data
 * folder remembers another one stops at start (exit 2) naming --data-dir, --redis and --cluster,
 * with its data untouched. A Redis that lost its data is not another cluster: the brokers give it
 * back the identity they remember.
 */
describe('a data folder of another cluster', () => {
  let redisX: RedisServer;
  let redisY: RedisServer;
  let dir: string;
  const brokers: BrokerProcess[] = [];

  before(async () => {
    [redisX, redisY] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    dir = await mkdtemp(join(tmpdir(), 'yak-other-cluster-'));
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.kill()));
    await Promise.all([redisX.stop(), redisY.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  /** `listening`: wait until it answers (not for one expected to stop at start: it may stop before the first poll). */
  const broker = async (id: string, redis: RedisServer, folder: string, port?: number, cluster = 'prod', listening = true) => {
    const b = new BrokerProcess({
      id,
      port: port ?? (await freePort()),
      dataDir: join(dir, folder),
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      cluster,
      leaseSeconds: 2,
      renewSeconds: 0.5,
      partitions: 1,
    });
    b.start();
    brokers.push(b);
    if (listening) await waitFor(`${id} listening`, () => get(b.url, '/health', 1000).then(() => true).catch(() => false), 15_000, 100);
    return b;
  };
  const leads = (b: BrokerProcess) => waitFor(`${b.id} leads`, async () => (await get(b.url, '/health')).body.role === 'leader', 20_000, 100);
  const allInSync = (b: BrokerProcess, n: number) =>
    waitFor(`${n} in sync`, async () => (await get(b.url, '/metadata/cluster')).body.brokers.filter((x: { in_sync: boolean; alive: boolean }) => x.in_sync && x.alive).length === n, 20_000, 100);
  const payloads = async (b: BrokerProcess) => ((await get(b.url, '/consume?topic=t&partition=0&offset=0&max=100')).body.records ?? []).map((r: { payload: unknown }) => r.payload);

  test('a broker pointed at another cluster\'s Redis stops, naming the flags, and keeps its data', async () => {
    const x1 = await broker('x1', redisX, 'x1');
    await leads(x1);
    const x2 = await broker('x2', redisX, 'x2');
    await allInSync(x1, 2);
    const xs = Array.from({ length: 10 }, (_, i) => `x-${i}`);
    for (const p of xs) assert.equal((await produceToNewLeader(x1.url, { topic: 't', payload: p, partition: 0 })).status, 200);
    await waitFor('x2 has them', async () => (await payloads(x2)).length === 10, 10_000, 100);

    const y1 = await broker('y1', redisY, 'y1');
    await leads(y1);
    for (const p of ['y-0', 'y-1', 'y-2']) assert.equal((await produceToNewLeader(y1.url, { topic: 't', payload: p, partition: 0 })).status, 200);

    // x2 restarted with the other cluster's Redis (a wrong REDIS_URL in its env file).
    await x2.stop();
    const wrong = await broker('x2', redisY, 'x2', x2.opts.port, 'prod', false);
    await waitFor('x2 on the wrong Redis stops', () => wrong.exitCode !== null, 20_000, 100).catch(async (err: Error) => {
      throw new Error(`${err.message}; x2 now serves ${JSON.stringify(await payloads(wrong).catch(() => '?'))}\n${wrong.tail(15)}`);
    });
    assert.equal(wrong.exitCode, 2, wrong.tail(20));
    const line = wrong.output.find((l) => l.includes('another cluster'));
    assert.ok(line, wrong.tail(20));
    for (const flag of ['--data-dir', '--redis', '--cluster']) assert.ok(line!.includes(flag), line);
    assert.ok(line!.includes(join(dir, 'x2')), line);

    // Its data is untouched: back on the right Redis, it serves cluster X's records.
    const back = await broker('x2', redisX, 'x2', x2.opts.port);
    await allInSync(x1, 2);
    assert.deepEqual(await payloads(back), xs);
    assert.ok(back.running());
    // /health names each broker's cluster: x1 and x2 agree, y1 (the other Redis) differs.
    const identity = async (b: BrokerProcess) => (await get(b.url, '/health')).body.cluster_identity as string | null;
    const ofX = await identity(x1);
    assert.match(ofX ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(await identity(back), ofX);
    assert.notEqual(await identity(y1), ofX);
  });

  test('a Redis that lost its data is not another cluster: the brokers carry on with the identity they remember', async () => {
    const r = await RedisServer.start();
    try {
      const z1 = await broker('z1', r, 'z1');
      await leads(z1);
      const z2 = await broker('z2', r, 'z2');
      await allInSync(z1, 2);
      assert.equal((await produceToNewLeader(z1.url, { topic: 't', payload: 'z-0', partition: 0 })).status, 200);
      await Promise.all([z1.stop(), z2.stop()]);
      await r.kill();
      await r.wipe();
      await r.launch();
      const again = [await broker('z1', r, 'z1', z1.opts.port), await broker('z2', r, 'z2', z2.opts.port)];
      await waitFor('a leader again', async () => {
        for (const b of again) if ((await get(b.url, '/health')).body.role === 'leader') return b;
        return null;
      }, 30_000, 100);
      for (const b of again) {
        assert.ok(b.running(), b.tail(20));
        assert.ok(!b.output.some((l) => l.includes('another cluster')), b.tail(20));
      }
    } finally {
      await r.stop();
    }
  });

  test('a broker restarted with a mistyped --cluster (an empty namespace) says what it waits for, and is degraded, not ok', async () => {
    const r = await RedisServer.start();
    try {
      const w1 = await broker('w1', r, 'w1', undefined, 'shop');
      await leads(w1);
      const w2 = await broker('w2', r, 'w2', undefined, 'shop');
      await allInSync(w1, 2);
      await w2.stop();
      // Its env file now says CLUSTER_ID=shopp: Redis holds nothing under that name; the in-sync set it remembers is [w1, w2].
      const typo = await broker('w2', r, 'w2', w2.opts.port, 'shopp');
      const line = await waitFor('w2 says what it waits for', () => typo.output.find((l) => l.includes('WARN') && l.includes('no in-sync set')), 20_000, 100).catch((err: Error) => {
        throw new Error(`${err.message}\n${typo.tail(10)}`);
      });
      assert.match(line, /waiting for w1/);
      for (const flag of ['--redis', '--cluster shopp']) assert.ok(line.includes(flag), line);
      const health = (await get(typo.url, '/health')).body;
      assert.equal(health.status, 'degraded', JSON.stringify(health));
      assert.match(health.degraded_reasons.join(' '), /waiting for w1/);
      // Warned once (the elector's info lines on why it does not lead come once per change of reason too).
      assert.equal(typo.output.filter((l) => l.includes('WARN') && l.includes('no in-sync set')).length, 1, typo.tail(10));
    } finally {
      await r.stop();
    }
  });
});
