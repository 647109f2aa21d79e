import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { flipMiddleBit } from '../../../chaos/faults.js';
import { Rng } from '../../../testkit/rng.js';
import type { BrokerProcess } from '../../../testkit/broker/process.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { sleep, waitFor } from '../../../testkit/wait.js';
import { checkAcked, readAll, waitForEqualHwm, type Acked } from '../../../testkit/broker/verify.js';

/**
 * Issue 6, part 2: a bit flipped in the middle of committed data must not be silently cut away.
 * The replica finds it at start-up, marks the partition unclean (in its log and in /metrics),
 * cuts the log before the damage, stays out of leadership and re-fetches from the leader.
 */
const TOPIC = 'bitrot';
const LEASE_SECONDS = 1;

/** `n` records to partition 0 in batches of 20 (a segment rolls only between writes). */
async function produce(client: YakClient, n: number, first = 0): Promise<Acked[]> {
  const acked: Acked[] = [];
  for (let from = first; from < first + n; from += 20) {
    const records = Array.from({ length: Math.min(20, first + n - from) }, (_, k) => ({ partition: 0, payload: { i: from + k, text: `record ${from + k} `.repeat(4) } }));
    const res = await client.produceBatch(TOPIC, records);
    res.results.forEach((r, k) => acked.push({ partition: r.partition, offset: r.offset, payload: records[k]!.payload }));
  }
  return acked;
}

/** Partition 0's segment files of a broker, oldest first. */
async function segments(b: BrokerProcess): Promise<string[]> {
  const dir = join(b.opts.dataDir, 'topics', `${TOPIC}-0`);
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort().map((n) => join(dir, n));
}

async function uncleanGauge(b: BrokerProcess): Promise<number> {
  const m = (await get(b.url, '/metrics', 2000)).body as Record<string, unknown>;
  return Object.entries(m).filter(([k]) => k.startsWith('partition_unclean')).reduce((s, [, v]) => s + Number(v), 0);
}

describe('a replica with damaged committed data', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  test('a bit flipped in a closed segment of a follower: marked unclean, cut, and every record re-fetched from the leader', async (t) => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: LEASE_SECONDS, renewSeconds: 0.2, extra: ['--segment-bytes', '4096'] });
    const client = new YakClient({ brokers: cluster.urls() });
    const acked = await produce(client, 300);
    await waitForEqualHwm(cluster.urls(), TOPIC);
    const { broker: leader } = await cluster.waitForLeader();
    const victim = cluster.brokers.find((b) => b !== leader)!;
    await victim.kill();
    const files = await segments(victim);
    assert.ok(files.length >= 3, `several segments: ${files.length}`);
    const flipped = await flipMiddleBit(new Rng(6), [files[0]!]);
    assert.ok(flipped, 'a bit was flipped');
    t.diagnostic(`killed follower ${victim.id}, flipped ${JSON.stringify(flipped)} (of ${files.length} segments), restarting it`);

    victim.start();
    const line = await waitFor('the unclean report in the log', () => victim.output.find((l) => l.includes('UNCLEAN')), 15_000);
    t.diagnostic(line);
    // Traffic goes on; the leader learns the follower's real log end from its answer to the next append.
    acked.push(...(await produce(client, 20, 300)));
    await waitFor('the follower to re-fetch past the damage', () => victim.output.find((l) => l.includes('clean again')), 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${cluster?.describe()}`);
    });
    await cluster.waitForInSync(3);
    await waitForEqualHwm(cluster.urls(), TOPIC);
    assert.equal(await uncleanGauge(victim), 0, 'partition_unclean is 0 once re-fetched');
    for (const b of cluster.brokers) assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), [], `${b.id} holds every acknowledged record`);
    t.diagnostic(`${victim.id} re-fetched; all ${acked.length} acknowledged records on every broker`);
  });

  test(
    'a follower that lost records at restart re-fetches them even when nothing new is written',
    async (t) => {
      await cluster?.stop();
      cluster = await TestCluster.start({ brokers: 3, leaseSeconds: LEASE_SECONDS, renewSeconds: 0.2, extra: ['--segment-bytes', '4096'] });
      const c = cluster;
      const acked = await produce(new YakClient({ brokers: c.urls() }), 300);
      await waitForEqualHwm(c.urls(), TOPIC);
      const { broker: leader } = await c.waitForLeader();
      const victim = c.brokers.find((b) => b !== leader)!;
      await victim.kill();
      t.diagnostic(`flipped ${JSON.stringify(await flipMiddleBit(new Rng(8), [(await segments(victim))[0]!]))} on ${victim.id}; no more writes`);
      victim.start();
      await waitFor('the follower to re-fetch past the damage', () => victim.output.find((l) => l.includes('clean again')), 10_000);
      assert.deepEqual(checkAcked(victim.id, await readAll(victim.url, TOPIC), acked), []);
    },
  );

  test(
    'an unclean replica stays out of leadership although it is in the in-sync set, and nothing acknowledged is lost',
    async (t) => {
      await cluster?.stop();
      cluster = await TestCluster.start({ brokers: 3, leaseSeconds: LEASE_SECONDS, renewSeconds: 0.2, extra: ['--segment-bytes', '4096'] });
      const c = cluster;
      const client = new YakClient({ brokers: c.urls() });
      const acked = await produce(client, 300);
      await waitForEqualHwm(c.urls(), TOPIC);
      await c.waitForInSync(3);
      // All at once, so nobody records a smaller in-sync set: every broker stays a member in Redis.
      await Promise.all(c.brokers.map((b) => b.kill()));
      const victim = c.brokers[0]!;
      const flipped = await flipMiddleBit(new Rng(7), [(await segments(victim))[0]!]);
      t.diagnostic(`killed all brokers, flipped ${JSON.stringify(flipped)} on ${victim.id}; starting it alone`);
      victim.start();
      await waitFor('the unclean report', () => victim.output.find((l) => l.includes('UNCLEAN')), 15_000);
      // That report comes while the logs load, before the broker listens: at load, over 0.5 s
      // before (a /health right after the first pause found nothing listening, CI).
      await waitFor(`${victim.id} to answer`, () => get(victim.url, '/health', 2000).then((r) => r.status === 200, () => false), 15_000);
      for (let i = 0; i < 8; i++) {
        await sleep((LEASE_SECONDS * 1000) / 2);
        const h = (await get(victim.url, '/health')).body as { role: string };
        assert.equal(h.role, 'follower', `${victim.id} took the lease while unclean`);
        assert.equal(await uncleanGauge(victim), 1);
      }
      for (const b of c.brokers.slice(1)) b.start();
      const { broker: leader } = await c.waitForLeader();
      assert.notEqual(leader.id, victim.id);
      await c.waitForInSync(3);
      await waitForEqualHwm(c.urls(), TOPIC);
      for (const b of c.brokers) assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), [], `${b.id} holds every acknowledged record`);
    },
  );
});
