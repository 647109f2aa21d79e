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
import { get } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';

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
 * that replica could never lead again either (the cluster leads with one broker fewer).
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
});
