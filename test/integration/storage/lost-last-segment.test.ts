import assert from 'node:assert/strict';
import { readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { parseCheckedNumber } from '../../../broker-runtime/src/log/checkpoint-checksum.js';
import { HIGH_WATERMARK_FILE } from '../../../broker-runtime/src/log/high-watermark.js';
import { scanRecords } from '../../../broker-runtime/src/log/record-codec.js';
import type { BrokerProcess } from '../../../testkit/broker/process.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { sleep, waitFor } from '../../../testkit/wait.js';
import { checkAcked, readAll, waitForEqualHwm, type Acked } from '../../../testkit/broker/verify.js';

/**
 * Issue 10, item 1. Invariant: no acknowledged record is lost or changed, and a replica that lost
 * committed records never leads before it has them again. 900 records acknowledged over 3
 * partitions (64 KiB segments); every broker SIGKILLed; the end of one partition's log damaged on
 * b3; b3 started alone (it must stay a follower, its partition reported unclean); then b1 and b2.
 * Afterwards every acknowledged record reads back at its acknowledged offset from every broker.
 * Before the fix b3 led, gave new records the missing offsets, and b1 and b2 cut their copies.
 */
const TOPIC = 'lost-tail';
const PARTITION = 1;
const LEASE_SECONDS = 1;

interface PartitionFiles {
  dir: string;
  /** Segment data files, oldest first (names only). */
  logs: string[];
}

async function partitionFiles(b: BrokerProcess): Promise<PartitionFiles> {
  const dir = join(b.opts.dataDir, 'topics', `${TOPIC}-${PARTITION}`);
  return { dir, logs: (await readdir(dir)).filter((n) => n.endsWith('.log')).sort() };
}

/**
 * Waits until every broker's high-water mark checkpoint of every partition of TOPIC names that
 * partition's high-water mark (the checkpoint is written with each fsync, every second): the
 * damage below must meet a checkpoint that is up to date, as it is after a broker ran a while.
 */
async function waitForCheckpoints(c: TestCluster): Promise<void> {
  const { topics } = await new YakClient({ brokers: c.urls() }).topics();
  const partitions = topics.find((x) => x.name === TOPIC)!.partitions;
  await waitFor('every high-water mark checkpoint written', async () => {
    for (const b of c.brokers) {
      for (const p of partitions) {
        const file = join(b.opts.dataDir, 'topics', `${TOPIC}-${p.partition}`, HIGH_WATERMARK_FILE);
        const saved = parseCheckedNumber(await readFile(file, 'utf8').catch(() => ''));
        if (saved.form === 'damaged' || saved.value !== p.high_watermark) return false;
      }
    }
    return true;
  }, 15_000);
}

const baseOf = (name: string) => Number(name.slice(0, 20));
const indexOf = (name: string) => name.replace(/\.log$/, '.index');

/** Byte position of the record `offset` in a segment file. */
async function positionOf(path: string, offset: number): Promise<number> {
  let at = -1;
  scanRecords(await readFile(path), { onRecord: (pos, _size, o) => (o === offset ? (at = pos) : undefined) });
  assert.ok(at >= 0, `offset ${offset} in ${path}`);
  return at;
}

async function checkpointOf(dir: string): Promise<number> {
  const saved = parseCheckedNumber(await readFile(join(dir, HIGH_WATERMARK_FILE), 'utf8'));
  assert.notEqual(saved.form, 'damaged');
  return saved.form === 'damaged' ? Number.NaN : saved.value;
}

/** Keep only records below `offset`: segments after the one holding it deleted (with their indexes), that one cut at the record. */
async function cutLogAt(files: PartitionFiles, offset: number): Promise<void> {
  const holding = files.logs.filter((n) => baseOf(n) <= offset).pop()!;
  for (const n of files.logs.filter((x) => baseOf(x) > offset)) {
    await rm(join(files.dir, n));
    await rm(join(files.dir, indexOf(n)), { force: true });
  }
  await truncate(join(files.dir, holding), await positionOf(join(files.dir, holding), offset));
}

/** `n` records spread over the 3 partitions, in batches of 30, about 300 bytes each. */
async function produce(client: YakClient, n: number, first = 0): Promise<Acked[]> {
  const acked: Acked[] = [];
  for (let from = first; from < first + n; from += 30) {
    const records = Array.from({ length: Math.min(30, first + n - from) }, (_, k) => ({ partition: (from + k) % 3, payload: { i: from + k, text: `record ${from + k} `.repeat(20).slice(0, 240) } }));
    const res = await client.produceBatch(TOPIC, records);
    res.results.forEach((r, k) => acked.push({ partition: r.partition, offset: r.offset, payload: records[k]!.payload }));
  }
  return acked;
}

interface HealthSample {
  role: string;
  unclean_partitions: string[];
}

/** Polls a broker's /health until stopped; keeps every answer. */
function watchHealth(b: BrokerProcess): { samples: HealthSample[]; stop: () => Promise<void> } {
  const samples: HealthSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        samples.push((await get(b.url, '/health', 1000)).body as HealthSample);
      } catch {
        // not listening (yet)
      }
      await sleep(100);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

interface Scenario {
  /** Before the kill: extra steps (a failover) so the damage has something to show. */
  prepare?: (cluster: TestCluster, client: YakClient, t: TestContext) => Promise<Acked[]>;
  /** Damage b3's partition folder (every broker is down); returns what was done. */
  damage: (files: PartitionFiles, b3: BrokerProcess) => Promise<string>;
}

describe('a replica that lost the end of its log does not lead and does not destroy acknowledged records', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  async function run(t: TestContext, scenario: Scenario): Promise<void> {
    await cluster?.stop();
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: LEASE_SECONDS, renewSeconds: 0.2, extra: ['--segment-bytes', '65536'] });
    const c = cluster;
    const client = new YakClient({ brokers: c.urls() });
    const acked = await produce(client, 900);
    if (scenario.prepare) acked.push(...(await scenario.prepare(c, client, t)));
    await waitForEqualHwm(c.urls(), TOPIC);
    await c.waitForInSync(3);
    await waitForCheckpoints(c);
    // All at once, so nobody records a smaller in-sync set: every broker stays a member in Redis.
    await Promise.all(c.brokers.map((b) => b.kill()));
    const [b1, b2, b3] = c.brokers as [BrokerProcess, BrokerProcess, BrokerProcess];
    const files = await partitionFiles(b3);
    assert.ok(files.logs.length >= 2, `several segments: ${files.logs.join(', ')}`);
    const did = await scenario.damage(files, b3);
    t.diagnostic(`${acked.length} records acknowledged; killed all brokers; on ${b3.id} ${TOPIC}-${PARTITION}: ${did}; starting ${b3.id} alone`);

    const health = watchHealth(b3);
    try {
      b3.start();
      const line = await waitFor('the unclean report', () => b3.output.find((l) => l.includes('UNCLEAN')), 15_000);
      t.diagnostic(line);
      // The report comes while the logs open, before the broker listens (later still on a loaded machine).
      await waitFor(`${b3.id} answering /health`, async () => (await get(b3.url, '/health')).status === 200, 15_000);
      for (let i = 0; i < 6; i++) {
        await sleep((LEASE_SECONDS * 1000) / 2);
        const h = (await get(b3.url, '/health')).body as HealthSample;
        assert.equal(h.role, 'follower', `${b3.id} took the lease while unclean`);
        assert.deepEqual(h.unclean_partitions, [`${TOPIC}/${PARTITION}`]);
      }
      b1.start();
      b2.start();
      const { broker: leader } = await c.waitForLeader();
      assert.notEqual(leader.id, b3.id);
      await waitFor(`${b3.id} to re-fetch what it lost`, () => b3.output.find((l) => l.includes('clean again')), 30_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${c.describe()}`);
      });
      await c.waitForInSync(3);
      acked.push(...(await produce(client, 30, 10_000)));
      await waitForEqualHwm(c.urls(), TOPIC);
    } finally {
      await health.stop();
    }
    const ledUnclean = health.samples.filter((h) => h.role === 'leader' && h.unclean_partitions.length > 0);
    assert.deepEqual(ledUnclean, [], `${b3.id} never leads while unclean (${health.samples.length} /health samples)`);
    assert.ok(health.samples.some((h) => h.unclean_partitions.length > 0), 'the watcher saw the unclean state');
    assert.deepEqual(((await get(b3.url, '/health')).body as HealthSample).unclean_partitions, [], 'clean once re-fetched');
    for (const b of c.brokers) assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), [], `${b.id} holds every acknowledged record at its offset`);
    t.diagnostic(`all ${acked.length} acknowledged records at their offsets on every broker; ${b3.id} never led while unclean`);
  }

  test('(a) the last .log deleted: unclean, never leads, re-fetches; nothing acknowledged lost or changed', async (t) => {
    await run(t, {
      damage: async (files) => {
        const last = files.logs[files.logs.length - 1]!;
        await rm(join(files.dir, last));
        return `deleted ${last} (base ${baseOf(last)}), high-water mark checkpoint ${await checkpointOf(files.dir)}`;
      },
    });
  });

  test('(b) only the offset index knows of offsets past the log end: unclean, never leads; nothing lost', async (t) => {
    await run(t, {
      damage: async (files) => {
        // The previous segment's index (written when it rolled) is the only witness left.
        const closed = files.logs[files.logs.length - 2]!;
        const cutAt = baseOf(closed) + 5;
        await cutLogAt(files, cutAt);
        await writeFile(join(files.dir, 'high-watermark'), `${cutAt}\n`);
        const index = await readFile(join(files.dir, indexOf(closed)));
        assert.ok(index.length >= 16, 'the closed segment has index entries past the cut');
        return `kept offsets below ${cutAt} (in ${closed}), later segments and the last index deleted, high-water mark checkpoint set to ${cutAt}`;
      },
    });
  });

  test('(b) only the leader-epoch cache knows of offsets past the log end: unclean, never leads; nothing lost', async (t) => {
    let epochStart = -1;
    await run(t, {
      prepare: async (c, client, t2) => {
        // A failover, so that a newer epoch starts writing at a known offset of the partition.
        const { broker: before } = await c.waitForLeader();
        await before.kill();
        const { broker: next, epoch } = await c.waitForLeader(20_000, before.id);
        before.start();
        await c.waitForInSync(3);
        const acked = await produce(client, 300, 900);
        epochStart = Math.min(...acked.filter((a) => a.partition === PARTITION).map((a) => a.offset));
        t2.diagnostic(`failover ${before.id} -> ${next.id} (epoch ${epoch}); it wrote ${TOPIC}-${PARTITION} from offset ${epochStart}`);
        return acked;
      },
      damage: async (files) => {
        const cache = JSON.parse(await readFile(join(files.dir, 'leader-epoch-checkpoint'), 'utf8')) as { epochs: { epoch: number; startOffset: number }[] };
        const newest = cache.epochs[cache.epochs.length - 1]!;
        assert.equal(newest.startOffset, epochStart, 'the newest epoch starts where the new leader began writing');
        await cutLogAt(files, epochStart);
        const remaining = (await readdir(files.dir)).filter((n) => n.endsWith('.log')).sort();
        await rm(join(files.dir, indexOf(remaining[remaining.length - 1]!)), { force: true });
        await writeFile(join(files.dir, 'high-watermark'), `${epochStart}\n`);
        return `kept offsets below ${epochStart}, where epoch ${newest.epoch} began; its index deleted, high-water mark checkpoint set to ${epochStart}`;
      },
    });
  });

  test('(c) the high-water mark checkpoint ahead of the log end: unclean, never leads; nothing lost', async (t) => {
    await run(t, {
      damage: async (files) => {
        const last = files.logs[files.logs.length - 1]!;
        const cutAt = baseOf(last) + 3;
        const hwm = await checkpointOf(files.dir);
        assert.ok(hwm > cutAt, `the checkpoint ${hwm} is past the cut ${cutAt}`);
        await cutLogAt(files, cutAt);
        await rm(join(files.dir, indexOf(last)), { force: true });
        return `kept offsets below ${cutAt} (3 records of ${last}), its index deleted; the high-water mark checkpoint says ${hwm}`;
      },
    });
  });

  test('a leader that lost committed records (let lead by --unclean-election) cannot make the others cut them', async (t) => {
    // Invariant: a follower never cuts below its own high-water mark unless the leader proves it
    // holds those records. b3 is let lead on purpose, with its last segment gone, and writes new
    // records at the lost offsets; b1 and b2 must refuse to cut their acknowledged copies.
    await cluster?.stop();
    cluster = await TestCluster.start({ brokers: 3, leaseSeconds: LEASE_SECONDS, renewSeconds: 0.2, extra: ['--segment-bytes', '65536'] });
    const c = cluster;
    const acked = await produce(new YakClient({ brokers: c.urls() }), 900);
    await waitForEqualHwm(c.urls(), TOPIC);
    await c.waitForInSync(3);
    await waitForCheckpoints(c);
    await Promise.all(c.brokers.map((b) => b.kill()));
    const [b1, b2, b3] = c.brokers as [BrokerProcess, BrokerProcess, BrokerProcess];
    const files = await partitionFiles(b3);
    const last = files.logs[files.logs.length - 1]!;
    await rm(join(files.dir, last));
    b3.opts.extra = [...(b3.opts.extra ?? []), '--unclean-election'];
    b3.start();
    const { broker: leader } = await c.waitForLeader();
    assert.equal(leader.id, b3.id, 'b3 leads by unclean election');
    const client = new YakClient({ brokers: [b3.url] });
    const overwritten = await client.produceBatch(TOPIC, Array.from({ length: 10 }, (_, k) => ({ partition: PARTITION, payload: { unclean: k } })));
    t.diagnostic(`deleted ${last} on ${b3.id}; it led and wrote ${TOPIC}-${PARTITION} offsets ${overwritten.results[0]!.offset}..${overwritten.results[9]!.offset} anew`);
    b1.start();
    b2.start();
    for (const b of [b1, b2]) await waitFor(`${b.id} to refuse the cut`, () => b.output.find((l) => l.includes('refusing leader b3')), 20_000);
    t.diagnostic(b1.output.find((l) => l.includes('refusing leader b3'))!);
    assert.ok(b3.output.some((l) => l.includes('refused to cut')), 'the leader logs the refusal');
    const original = acked.filter((a) => a.partition === PARTITION);
    for (const b of [b1, b2]) {
      const data = await readAll(b.url, TOPIC);
      assert.deepEqual(checkAcked(b.id, new Map([[PARTITION, data.get(PARTITION)!]]), original), [], `${b.id} keeps every record acknowledged before the loss`);
    }
  });

  test('(d) the last segment truncated to zero bytes: unclean, never leads; nothing lost', async (t) => {
    await run(t, {
      damage: async (files) => {
        const last = files.logs[files.logs.length - 1]!;
        await truncate(join(files.dir, last), 0);
        return `truncated ${last} to 0 bytes; high-water mark checkpoint ${await checkpointOf(files.dir)}`;
      },
    });
  });
});
