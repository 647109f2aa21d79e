import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { clusterKeys } from '../../../broker-runtime/src/election/keys.js';
import type { BrokerProcess } from '../../../testkit/broker/process.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { sleep, waitFor } from '../../../testkit/wait.js';
import { checkAcked, readAll, waitForEqualHwm, waitForHwmCovering, type Acked } from '../../../testkit/broker/verify.js';

/**
 * Invariant: a replica that lost committed records never leads. Unlike lost-last-segment.test.ts,
 * the loss here leaves no evidence on the replica's disk at all: its whole data folder (a replaced
 * disk, an `rm -rf`), or one partition's folder, is gone. Every broker is SIGKILLed at once, so the
 * in-sync set recorded in Redis still names all three; b3 starts alone with nothing. Before the fix
 * it took the lease in 'isr' mode at once, led with empty logs and acknowledged new records at the
 * offsets of the lost ones (b1 and b2 then refused its cuts: two histories under one offset range).
 * Now a broker whose logs end below a high-water mark the leader mirrored into Redis does not take
 * the lease (unless --unclean-election).
 */
const TOPIC = 'lost-folder';
const LEASE_SECONDS = 1;

async function produce(client: YakClient, n: number, first = 0): Promise<Acked[]> {
  const acked: Acked[] = [];
  for (let from = first; from < first + n; from += 30) {
    const records = Array.from({ length: Math.min(30, first + n - from) }, (_, k) => ({ partition: (from + k) % 3, payload: { i: from + k } }));
    const res = await client.produceBatch(TOPIC, records);
    res.results.forEach((r, k) => acked.push({ partition: r.partition, offset: r.offset, payload: records[k]!.payload }));
  }
  return acked;
}

/** Waits until Redis's mirror of the leader's high-water marks names every partition's committed end. */
async function waitForMirror(c: TestCluster, cluster: string): Promise<void> {
  const redis = new Redis(c.redis.url, { lazyConnect: true });
  try {
    await redis.connect();
    const { topics } = await new YakClient({ brokers: c.urls() }).topics();
    const partitions = topics.find((x) => x.name === TOPIC)!.partitions;
    await waitFor('the high-water marks mirrored into Redis', async () => {
      const hash = await redis.hgetall(clusterKeys(cluster).hwm);
      return partitions.every((p) => Number(hash[`${TOPIC}/${p.partition}`]) === p.high_watermark);
    }, 10_000);
  } finally {
    redis.disconnect();
  }
}

/**
 * A 3-broker cluster with 300 acknowledged records (`acked`), every broker in sync and the commits
 * mirrored in Redis, then every broker killed at once, so nobody records a smaller in-sync set:
 * every broker stays a member in Redis.
 */
async function filledThenKilled(extra: string[] = []): Promise<{ cluster: TestCluster; client: YakClient; acked: Acked[] }> {
  const cluster = await TestCluster.start({ brokers: 3, leaseSeconds: LEASE_SECONDS, renewSeconds: 0.2, extra });
  const client = new YakClient({ brokers: cluster.urls() });
  const acked = await produce(client, 300);
  await waitForEqualHwm(cluster.urls(), TOPIC);
  await cluster.waitForInSync(3);
  await waitForMirror(cluster, cluster.brokers[0]!.opts.cluster);
  await Promise.all(cluster.brokers.map((b) => b.kill()));
  return { cluster, client, acked };
}

describe('a replica whose data folder is gone does not lead and does not destroy acknowledged records', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  async function run(t: TestContext, damage: (b3: BrokerProcess) => Promise<string>): Promise<void> {
    await cluster?.stop();
    const { cluster: c, client, acked } = await filledThenKilled();
    cluster = c;
    const [b1, b2, b3] = c.brokers as [BrokerProcess, BrokerProcess, BrokerProcess];
    t.diagnostic(`${acked.length} records acknowledged; killed all brokers; ${await damage(b3)}; starting ${b3.id} alone`);

    b3.start();
    await waitFor(`${b3.id} answering /health`, async () => (await get(b3.url, '/health')).status === 200, 15_000);
    // Recovery is not involved (Redis keeps its in-sync set): an 'isr' election would come within a poll.
    for (let i = 0; i < 8; i++) {
      await sleep((LEASE_SECONDS * 1000) / 2);
      const h = (await get(b3.url, '/health')).body as { role: string };
      assert.equal(h.role, 'follower', `${b3.id} took the lease with an empty data folder\n${b3.tail(20)}`);
    }
    assert.ok(b3.output.some((l) => l.includes('below the high-water mark')), `${b3.id} says why it does not lead\n${b3.tail(20)}`);
    b1.start();
    b2.start();
    const { broker: leader } = await c.waitForLeader();
    assert.notEqual(leader.id, b3.id);
    await c.waitForInSync(3, 30_000);
    acked.push(...(await produce(client, 30, 10_000)));
    await waitForHwmCovering(c.urls(), TOPIC, acked);
    for (const b of c.brokers) assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), [], `${b.id} holds every acknowledged record at its offset`);
  }

  test('the whole data folder deleted: never leads; nothing acknowledged lost or changed', async (t) => {
    await run(t, async (b3) => {
      await rm(b3.opts.dataDir, { recursive: true, force: true });
      return `deleted ${b3.id}'s whole data folder`;
    });
  });

  test('the first segment of a partition deleted (not by retention): never leads, so no replica deletes its copies', async (t) => {
    // Its log end still reaches every mirrored high-water mark: only the front is gone. Before the
    // fix b3 led with its log start at the second segment's base, and b1 and b2, following the
    // leader's log start, deleted their own first segments: records 0.. gone from every replica.
    await cluster?.stop();
    const { cluster: c, client, acked } = await filledThenKilled(['--segment-bytes', '4096']);
    cluster = c;
    const [b1, b2, b3] = c.brokers as [BrokerProcess, BrokerProcess, BrokerProcess];
    const dir = join(b3.opts.dataDir, 'topics', `${TOPIC}-1`);
    const segments = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
    assert.ok(segments.length >= 2, `several segments: ${segments.join(', ')}`);
    await rm(join(dir, segments[0]!));
    t.diagnostic(`${acked.length} records acknowledged; killed all brokers; deleted ${segments[0]} of ${TOPIC}-1 on ${b3.id} (next segment ${segments[1]}); starting ${b3.id} alone`);
    b3.start();
    await waitFor(`${b3.id} answering /health`, async () => (await get(b3.url, '/health')).status === 200, 15_000);
    for (let i = 0; i < 8; i++) {
      await sleep((LEASE_SECONDS * 1000) / 2);
      const h = (await get(b3.url, '/health')).body as { role: string; unclean_partitions: string[] };
      assert.equal(h.role, 'follower', `${b3.id} took the lease with its first segment gone\n${b3.tail(20)}`);
      assert.deepEqual(h.unclean_partitions, [`${TOPIC}/1`]);
    }
    b1.start();
    b2.start();
    const { broker: leader } = await c.waitForLeader();
    assert.notEqual(leader.id, b3.id);
    acked.push(...(await produce(client, 30, 10_000)));
    await waitForHwmCovering([b1.url, b2.url], TOPIC, acked);
    for (const b of [b1, b2]) assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), [], `${b.id} holds every acknowledged record at its offset`);
    assert.deepEqual(((await get(b3.url, '/health')).body as { unclean_partitions: string[] }).unclean_partitions, [`${TOPIC}/1`], 'still unclean: the leader holds what it lost');
  });

  test('a partition folder deleted on every broker (no copy left anywhere): the cluster is not leaderless for good, the one holding most leads', async (t) => {
    // As a power cut that took every replica's unsynced tail: nobody may wait for a copy that no
    // longer exists. Only once every in-sync replica is up and short does the best one lead.
    await cluster?.stop();
    const { cluster: c, client, acked } = await filledThenKilled();
    cluster = c;
    for (const b of c.brokers) await rm(join(b.opts.dataDir, 'topics', `${TOPIC}-1`), { recursive: true });
    const [b1, b2, b3] = c.brokers as [BrokerProcess, BrokerProcess, BrokerProcess];
    t.diagnostic(`deleted ${TOPIC}-1 on every broker; starting b1 and b2, then b3`);
    b1.start();
    b2.start();
    for (const b of [b1, b2]) await waitFor(`${b.id} answering /health`, async () => (await get(b.url, '/health')).status === 200, 15_000);
    for (let i = 0; i < 4; i++) {
      await sleep((LEASE_SECONDS * 1000) / 2);
      for (const b of [b1, b2]) assert.equal(((await get(b.url, '/health')).body as { role: string }).role, 'follower', `${b.id} led while b3, which may hold the records, is down`);
    }
    b3.start();
    const { broker: leader } = await c.waitForLeader(20_000);
    t.diagnostic(`${leader.id} leads: ${leader.output.find((l) => l.includes('leading with the most records')) ?? '(no line)'}`);
    assert.ok(leader.output.some((l) => l.includes('leading with the most records')), leader.tail(20));
    // The other partitions kept every acknowledged record.
    const kept = acked.filter((a) => a.partition !== 1);
    await waitForHwmCovering(c.urls(), TOPIC, kept);
    for (const b of c.brokers) {
      const data = await readAll(b.url, TOPIC);
      data.delete(1);
      assert.deepEqual(checkAcked(b.id, data, kept), [], `${b.id} holds every acknowledged record of the other partitions`);
    }
  });

  test('one partition folder deleted: never leads; nothing acknowledged lost or changed', async (t) => {
    await run(t, async (b3) => {
      const dir = join(b3.opts.dataDir, 'topics', `${TOPIC}-1`);
      await rm(dir, { recursive: true });
      return `deleted ${dir}`;
    });
  });
});
