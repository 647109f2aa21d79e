import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GroupConsumer, YakClient } from '../../../broker-runtime/src/client/index.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { sleep, waitFor } from '../../../testkit/wait.js';

/** The client's group consumer against real brokers: sharing, at-least-once through a leader kill, pause/resume, manual commit. */
describe('group consumer (client)', () => {
  let cluster: TestCluster;
  let client: YakClient;
  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: 1, renewSeconds: 0.25 });
    client = new YakClient({ brokers: cluster.urls(), timeoutMs: 3000, retry: { retries: 60, minDelayMs: 20, maxDelayMs: 300 } });
    await client.createTopic('events', 4);
  });
  after(async () => cluster?.stop());

  const seen = (set: Set<string>) => (r: { partition: number; offset: number }) => void set.add(`${r.partition}:${r.offset}`);

  test('two consumers of one group share the partitions, process every record, and commit after processing; a leader kill loses nothing acknowledged', async () => {
    const acked: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await client.produceBatch('events', Array.from({ length: 50 }, (_, j) => ({ payload: { i, j } })));
      for (const x of r.results) acked.push(`${x.partition}:${x.offset}`);
    }
    const processed = new Set<string>();
    const owners = new Map<number, Map<string, string>>(); // generation -> partition -> member
    const track = (c: GroupConsumer) => (parts: { topic: string; partition: number }[], generation: number) => {
      const byPartition = owners.get(generation) ?? new Map<string, string>();
      for (const p of parts) {
        const other = byPartition.get(`${p.partition}`);
        assert.ok(!other || other === c.member.memberId, `partition ${p.partition} held by two members in generation ${generation}`);
        byPartition.set(`${p.partition}`, c.member.memberId);
      }
      owners.set(generation, byPartition);
    };
    const options = { group: 'workers', topics: ['events'], sessionTimeoutMs: 3000, autoCommitIntervalMs: 200, waitMs: 200 };
    const a: GroupConsumer = new GroupConsumer(client, { ...options, clientId: 'a', onAssign: (p, g) => track(a)(p, g) });
    const b: GroupConsumer = new GroupConsumer(client, { ...options, clientId: 'b', onAssign: (p, g) => track(b)(p, g) });
    const runs = [a.run({ eachRecord: seen(processed) }), b.run({ eachBatch: (batch) => batch.records.forEach((r) => processed.add(`${batch.partition}:${r.offset}`)) })];
    await waitFor('both members hold partitions', () => a.assignment().length > 0 && b.assignment().length > 0 && a.assignment().length + b.assignment().length === 4, 30_000);
    await waitFor('the first 200 processed', () => acked.every((k) => processed.has(k)), 30_000);

    // Kill the leader while producing more; every acknowledged record must still be processed.
    let producing = true;
    const producer = (async () => {
      for (let n = 0; producing; n++) {
        try {
          const r = await client.produce('events', { payload: { n } });
          acked.push(`${r.partition}:${r.offset}`);
        } catch {
          await sleep(50);
        }
      }
    })();
    await sleep(300);
    const { broker: old } = await cluster.waitForLeader();
    await old.kill();
    await cluster.waitForLeader(20_000, old.id);
    await sleep(1000);
    producing = false;
    await producer;
    await waitFor('every acknowledged record processed', () => acked.every((k) => processed.has(k)), 40_000);
    await Promise.all([a.close(), b.close()]);
    await Promise.all(runs);
    const view = await client.describeGroup('workers');
    assert.equal(view.state, 'Empty');
    for (const o of view.offsets) assert.equal(o.lag, 0, `partition ${o.partition} committed ${o.committed_offset} of ${o.high_watermark}`);
    old.start();
    await cluster.waitForInSync(3, 30_000);
  });

  test('pause stops a partition, resume goes on from where it stopped; a manual commit commits what was processed', async () => {
    const got: number[] = [];
    const c = new GroupConsumer(client, { group: 'manual', topics: ['events'], autoCommit: false, waitMs: 100, sessionTimeoutMs: 5000 });
    c.pause('events', [0, 1, 2, 3]);
    const run = c.run({ eachRecord: (r) => void (r.partition === 0 && got.push(r.offset)) });
    await waitFor('joined', () => c.assignment().length === 4, 20_000);
    await sleep(500);
    assert.equal(got.length, 0, 'nothing while paused');
    c.resume('events', [0]);
    await waitFor('partition 0 read', async () => got.length > 0 && got.length === (await client.topics()).topics.find((t) => t.name === 'events')!.partitions[0]!.high_watermark, 20_000);
    await c.commit();
    const view = await client.describeGroup('manual');
    const p0 = view.offsets.find((o) => o.partition === 0)!;
    assert.equal(p0.committed_offset, got.length);
    assert.equal(view.offsets.find((o) => o.partition === 1)?.committed_offset ?? 0, 0, 'a paused partition stays where it started');
    await c.close();
    await run;
    assert.equal((await client.describeGroup('manual')).members.length, 0, 'close leaves the group');
  });
});
