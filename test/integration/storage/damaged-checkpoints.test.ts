import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { HIGH_WATERMARK_FILE } from '../../../broker-runtime/src/log/high-watermark.js';
import { EPOCH_CHECKPOINT_FILE } from '../../../broker-runtime/src/log/leader-epoch-cache.js';
import type { BrokerProcess } from '../../../testkit/broker/process.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { checkAcked, readAll, type Acked } from '../../../testkit/broker/verify.js';
import { call, get } from '../../../testkit/http.js';
import { sleep, waitFor } from '../../../testkit/wait.js';

/**
 * Storage faults in the small checkpoint files. Invariant: one bit flipped in a partition's
 * high-water mark checkpoint or leader-epoch checkpoint while the broker is stopped never keeps
 * the broker from leading, and never loses or hides an acknowledged record: the checkpoint's
 * checksum fails, the file is ignored (named in a warning), the high-water mark re-advances and
 * the epoch cache is rebuilt from the records.
 *
 * Before the checksum, the flipped digit ('1' -> '9', bit 0x08) moved the value past the log end,
 * which the loader reads as evidence of lost committed records: the partition was marked unclean
 * "until offset 9xx", an offset no leader ever reaches on an idle topic, so a single broker never
 * led again (every produce and consume refused) until an operator intervened. In a bigger cluster
 * that replica could never lead again either (the cluster leads with one broker fewer). Raised
 * inside the log of a follower holding records never committed, the mark served them to
 * consumers (the third test; 5 records never acknowledged read back before the fix).
 */
const TOPIC = 'checkpoints';

/** `n` records to partition 0, in batches of 50; their acknowledged offsets and payloads. */
async function produce(client: YakClient, n: number, first: number): Promise<Acked[]> {
  const acked: Acked[] = [];
  for (let from = first; from < first + n; from += 50) {
    const records = Array.from({ length: Math.min(50, first + n - from) }, (_, k) => ({ partition: 0, payload: { i: from + k } }));
    const res = await client.produceBatch(TOPIC, records);
    res.results.forEach((r, k) => acked.push({ partition: r.partition, offset: r.offset, payload: records[k]!.payload }));
  }
  return acked;
}

/** Flip bit 0x08 of the character at `at` of the file (a '1' becomes a '9'). */
async function flipBit(path: string, at: number): Promise<string> {
  const bytes = await readFile(path);
  const before = bytes.toString('utf8');
  bytes[at] = bytes[at]! ^ 0x08;
  await writeFile(path, bytes);
  return `${JSON.stringify(before)} -> ${JSON.stringify(bytes.toString('utf8'))}`;
}

function partitionDir(b: BrokerProcess): string {
  return join(b.opts.dataDir, 'topics', `${TOPIC}-0`);
}

describe('a bit flipped in a checkpoint file while the broker is stopped', () => {
  let cluster: TestCluster | undefined;
  after(async () => cluster?.stop());

  /** Start the damaged broker again: it must lead, with every acknowledged record readable, the partition clean, and the damaged file named in a warning. */
  async function restartAndCheck(t: TestContext, c: TestCluster, b: BrokerProcess, acked: Acked[], file: string): Promise<void> {
    const from = b.output.length;
    b.start();
    await c.waitForLeader(30_000);
    const health = (await get(b.url, '/health')).body as { unclean_partitions?: string[] };
    assert.deepEqual(health.unclean_partitions ?? [], [], 'the partition is not unclean');
    const expectedEnd = Math.max(...acked.map((a) => a.offset)) + 1;
    await waitFor('the high-water mark covering every acknowledged record', async () => {
      const topics = (await get(b.url, '/topics')).body as { topics: { name: string; partitions: { high_watermark: number }[] }[] };
      return topics.topics.find((x) => x.name === TOPIC)?.partitions[0]?.high_watermark === expectedEnd;
    }, 15_000);
    assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), [], 'every acknowledged record at its offset');
    const warning = b.output.slice(from).find((l) => l.includes('WARN') && l.includes(file));
    assert.ok(warning, `a warning names ${file}:\n${b.output.slice(from).join('\n')}`);
    t.diagnostic(warning);
    // Still writable: the checkpoint is rewritten, and the next records are committed as usual.
    acked.push(...(await produce(new YakClient({ brokers: c.urls() }), 10, 10_000)));
    assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), []);
  }

  test('the high-water mark checkpoint: ignored, the broker leads, nothing lost or hidden', async (t) => {
    await cluster?.stop();
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, leaseSeconds: 1, renewSeconds: 0.2 });
    const c = cluster;
    const b = c.brokers[0]!;
    const acked = await produce(new YakClient({ brokers: c.urls() }), 150, 0);
    await b.stop(); // clean: the checkpoint is written at close
    const path = join(partitionDir(b), HIGH_WATERMARK_FILE);
    const text = await readFile(path, 'utf8');
    const at = text.search(/150/);
    assert.ok(at >= 0, `the checkpoint names 150: ${JSON.stringify(text)}`);
    t.diagnostic(`150 records acknowledged, clean stop; ${HIGH_WATERMARK_FILE}: ${await flipBit(path, at)}`);
    await restartAndCheck(t, c, b, acked, HIGH_WATERMARK_FILE);
  });

  test('the leader-epoch checkpoint: rebuilt from the records, the broker leads, nothing lost', async (t) => {
    await cluster?.stop();
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, leaseSeconds: 1, renewSeconds: 0.2 });
    const c = cluster;
    const b = c.brokers[0]!;
    const client = new YakClient({ brokers: c.urls() });
    const acked = await produce(client, 100, 0);
    // A restart, so a newer epoch starts writing at offset 100.
    await b.stop();
    b.start();
    await c.waitForLeader(30_000);
    acked.push(...(await produce(client, 50, 100)));
    await b.stop();
    const path = join(partitionDir(b), EPOCH_CHECKPOINT_FILE);
    const text = await readFile(path, 'utf8');
    const at = text.lastIndexOf('"startOffset":100') + '"startOffset":'.length;
    assert.ok(at >= '"startOffset":'.length, `a newer epoch starts at 100: ${text}`);
    t.diagnostic(`150 records acknowledged over two epochs, clean stop; ${EPOCH_CHECKPOINT_FILE}: ${await flipBit(path, at)}`);
    await restartAndCheck(t, c, b, acked, EPOCH_CHECKPOINT_FILE);
  });

  test('a follower whose high-water mark checkpoint was raised inside its log: serves no record never acknowledged, and converges', async (t) => {
    // The worst case of a raised high-water mark: on a replica holding records that were never
    // committed (written by a leader that died before its follower had them), it turned them into
    // "committed" ones. Before the checksum the restarted replica served them to consumers at once
    // (reads go to any broker, up to its high-water mark), and refused the new leader's cut of
    // them for good (a cut below its high-water mark without the leader's proof), so it never
    // rejoined the in-sync set either.
    await cluster?.stop();
    // --min-insync 2: the old leader's last records are never committed once its follower is frozen.
    // A 3 s lease: the frozen follower's registration outlives the old leader (killed well before it
    // expires), so it stays in the in-sync set and may lead next.
    cluster = await TestCluster.start({ brokers: 2, partitions: 1, leaseSeconds: 3, renewSeconds: 0.5, minInsync: 2 });
    const c = cluster;
    const { broker: old } = await c.waitForLeader();
    const next = c.brokers.find((b) => b !== old)!;
    const acked = await produce(new YakClient({ brokers: [old.url] }), 100, 0);
    const path = join(partitionDir(old), HIGH_WATERMARK_FILE);
    await waitFor('the old leader checkpointing high-water mark 100', async () => /(^|\s)100\s/.test(await readFile(path, 'utf8').catch(() => '')), 15_000);
    await c.waitForInSync(2);
    // Paused, not killed: a closed connection takes a follower out of the in-sync set at once.
    next.signal('SIGSTOP');
    // Appended by the old leader, never committed: its only follower is frozen (and still in sync).
    const unacked = call(old.url, 'POST', '/produce/batch', { topic: TOPIC, records: Array.from({ length: 10 }, (_, k) => ({ partition: 0, payload: { neverAcknowledged: k } })) }, undefined, 20_000).catch((err: Error) => ({ status: 0, text: err.message }));
    await waitFor('the old leader holding the 10 records, uncommitted', async () => {
      const topics = (await get(old.url, '/topics')).body as { topics: { name: string; partitions: { log_end_offset: number; high_watermark: number }[] }[] };
      const p = topics.topics.find((x) => x.name === TOPIC)!.partitions[0]!;
      return p.log_end_offset === 110 && p.high_watermark === 100;
    }, 10_000, 20);
    await old.kill();
    const answer = await unacked;
    assert.notEqual(answer.status, 200, `the produce must not be acknowledged: ${answer.text}\n${old.tail(15)}`);
    // Killed while frozen: what the old leader had sent it is still unread in its socket, and goes with it.
    await next.kill();
    next.start();
    const { broker: leader } = await c.waitForLeader(30_000);
    assert.equal(leader.id, next.id);
    const text = await readFile(path, 'utf8');
    const flipped = text.replace(/^(v1 )?100(?=\s)/, (_m, v: string | undefined) => `${v ?? ''}105`);
    assert.notEqual(flipped, text, text);
    await writeFile(path, flipped);
    t.diagnostic(`${old.id} led, wrote 10 records it could not commit, was killed; ${next.id} leads with log end 100; ${old.id}'s ${HIGH_WATERMARK_FILE}: ${JSON.stringify(text)} -> ${JSON.stringify(flipped)}`);

    old.start();
    const served: unknown[] = [];
    const deadline = Date.now() + 20_000;
    let inSync = false;
    while (Date.now() < deadline && !inSync) {
      const r = await get(old.url, `/consume?topic=${TOPIC}&partition=0&offset=100&max=100`, 1000).catch(() => undefined);
      if (r?.status === 200) served.push(...(r.body as { records: { payload: unknown }[] }).records.map((x) => x.payload));
      inSync = (await c.waitForInSync(2, 500).then(() => true).catch(() => false));
      await sleep(100);
    }
    const phantoms = served.filter((p) => JSON.stringify(p).includes('neverAcknowledged'));
    const refusals = old.output.filter((l) => l.includes('refusing leader'));
    t.diagnostic(`${old.id} served ${phantoms.length} record(s) never acknowledged; in sync again: ${inSync}; refused cuts: ${refusals.length}${refusals[0] ? ` (${refusals[0]})` : ''}`);
    assert.deepEqual(phantoms, [], `${old.id} served records never acknowledged`);
    assert.ok(inSync, `${old.id} rejoined the in-sync set:\n${old.tail(20)}`);
    acked.push(...(await produce(new YakClient({ brokers: c.urls() }), 10, 100)));
    for (const b of c.brokers) {
      await waitFor(`${b.id} at high-water mark 110`, async () => {
        const topics = (await get(b.url, '/topics')).body as { topics: { name: string; partitions: { high_watermark: number }[] }[] };
        return topics.topics.find((x) => x.name === TOPIC)?.partitions[0]?.high_watermark === 110;
      }, 15_000);
      assert.deepEqual(checkAcked(b.id, await readAll(b.url, TOPIC), acked), [], `${b.id} holds exactly the acknowledged records`);
    }
  });
});
