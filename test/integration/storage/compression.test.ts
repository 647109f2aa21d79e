import assert from 'node:assert/strict';
import { readFile, readdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { YakClient, type Compression } from '../../../broker-runtime/src/client/index.js';
import { CODEC_IDS } from '../../../broker-runtime/src/log/compression/index.js';
import { entryCountAt, isCompressedAt, scanRecords } from '../../../broker-runtime/src/log/record-codec.js';
import type { BrokerProcess } from '../../../testkit/broker/process.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get, post } from '../../../testkit/http.js';
import { checkAcked, readAll, waitForEqualHwm, type Acked } from '../../../testkit/broker/verify.js';
import { yak } from '../../helpers/yak-cli.js';

/**
 * Issue 10, item 6. Invariants: a batch is stored as the topic's compression.type says (or as its
 * producer asked, under `producer`), every replica holds the same bytes, every record reads back
 * decompressed from any offset (inside a batch too) on leader and followers, and no acknowledged
 * record is lost through a failover or a torn compressed tail.
 */

const payload = (i: number) => ({ i, user: `user-${i % 17}`, note: `order ${i} of a compressible payload `.repeat(3) });

async function partitionDir(b: BrokerProcess, topic: string, partition: number): Promise<{ dir: string; logs: string[] }> {
  const dir = join(b.opts.dataDir, 'topics', `${topic}-${partition}`);
  return { dir, logs: (await readdir(dir)).filter((n) => n.endsWith('.log')).sort() };
}

/** Per stored entry of a partition on a broker: 'plain' or the codec name, with its record count. */
async function storedEntries(b: BrokerProcess, topic: string, partition: number): Promise<{ kinds: string[]; bytes: Buffer }> {
  const { dir, logs } = await partitionDir(b, topic, partition);
  const bytes = Buffer.concat(await Promise.all(logs.map((n) => readFile(join(dir, n)))));
  const names = Object.fromEntries(Object.entries(CODEC_IDS).map(([k, v]) => [v, k]));
  const kinds: string[] = [];
  const scan = scanRecords(bytes, { onRecord: (pos, size) => kinds.push(isCompressedAt(bytes, pos) ? `${names[bytes.readUInt8(pos + 32)]}x${entryCountAt(bytes, pos, size)}` : 'plain') });
  assert.equal(scan.stop, 'end');
  return { kinds, bytes };
}

/** Consume from every offset (max 5) on `url` and check offsets and payloads against `expected`. */
async function checkEveryOffset(url: string, topic: string, expected: unknown[]): Promise<void> {
  for (let from = 0; from < expected.length; from++) {
    const c = await get(url, `/consume?topic=${topic}&partition=0&offset=${from}&max=5`);
    assert.equal(c.status, 200, c.text);
    const want = expected.slice(from, from + 5);
    assert.deepEqual(c.body.records.map((r: { offset: number }) => r.offset), want.map((_, k) => from + k), `${url} ${topic} from ${from}`);
    assert.deepEqual(c.body.records.map((r: { payload: unknown }) => r.payload), want, `${url} ${topic} from ${from}`);
    assert.equal(c.body.next_offset, from + want.length);
  }
}

describe('compression: 3 brokers', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let client: YakClient;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, minInsync: 2, partitions: 1 });
    client = new YakClient({ brokers: cluster.urls() });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('stores batches per topic config and per producer; every offset reads back decompressed on every broker', async () => {
    await client.createTopic('cz-gzip', 1, { 'compression.type': 'gzip' });
    await client.createTopic('cz-none', 1, { 'compression.type': 'none' });
    await client.createTopic('cz-producer', 1);
    assert.equal((await client.topicConfig('cz-gzip')).config['compression.type'], 'gzip');
    assert.equal((await client.topicConfig('cz-producer')).config['compression.type'], 'producer');
    const bad = await post((await cluster.waitForLeader()).broker.url, '/topics/cz-gzip/config', { config: { 'compression.type': 'brotli' } });
    assert.equal(bad.status, 400);
    assert.equal((await client.topicConfig('cz-gzip')).config['compression.type'], 'gzip', 'a refused change changes nothing');

    const plan: [number, Compression | undefined][] = [[1, undefined], [7, 'lz4'], [50, 'gzip'], [3, 'none'], [20, 'lz4'], [1, 'gzip']];
    const sent: Record<string, unknown[]> = { 'cz-gzip': [], 'cz-none': [], 'cz-producer': [] };
    for (const topic of Object.keys(sent)) {
      for (const [n, compression] of plan) {
        const records = Array.from({ length: n }, (_, k) => ({ payload: payload(sent[topic]!.length + k) }));
        const answer = await client.produceBatch(topic, records, compression ? { compression } : {});
        assert.equal(answer.results[0]!.offset, sent[topic]!.length);
        sent[topic]!.push(...records.map((r) => r.payload));
      }
    }
    // A single record through POST /produce with the producer's codec.
    await client.produce('cz-producer', { payload: payload(82) }, { compression: 'gzip' });
    sent['cz-producer']!.push(payload(82));

    for (const topic of Object.keys(sent)) await waitForEqualHwm(cluster.urls(), topic);
    const kinds = (await storedEntries(cluster.brokers[0]!, 'cz-producer', 0)).kinds;
    assert.deepEqual(kinds, ['plain', 'lz4x7', 'gzipx50', 'plain', 'plain', 'plain', 'lz4x20', 'gzipx1', 'gzipx1']);
    assert.deepEqual((await storedEntries(cluster.brokers[0]!, 'cz-gzip', 0)).kinds, plan.map(([n]) => `gzipx${n}`));
    assert.ok((await storedEntries(cluster.brokers[0]!, 'cz-none', 0)).kinds.every((k) => k === 'plain'));
    for (const topic of Object.keys(sent)) {
      const [first, ...rest] = await Promise.all(cluster.brokers.map((b) => storedEntries(b, topic, 0)));
      for (const other of rest) assert.ok(other.bytes.equals(first!.bytes), `${topic}: every replica stores the same bytes`);
      for (const url of cluster.urls()) await checkEveryOffset(url, topic, sent[topic]!);
    }
    const gzipBytes = (await storedEntries(cluster.brokers[0]!, 'cz-gzip', 0)).bytes.length;
    const plainBytes = (await storedEntries(cluster.brokers[0]!, 'cz-none', 0)).bytes.length;
    assert.ok(gzipBytes < plainBytes / 2, `gzip ${gzipBytes} bytes vs plain ${plainBytes}`);
  });

  test('yak produce --compression stores the batch compressed; a bad codec is a usage error', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify(payload(i))).join('\n') + '\n';
    const ok = await yak(['produce', 'cz-cli', '--compression', 'lz4', '--brokers', cluster.urls().join(',')], { input: lines });
    assert.equal(ok.status, 0, ok.stderr);
    await waitForEqualHwm(cluster.urls(), 'cz-cli');
    const all = await readAll(cluster.urls()[1]!, 'cz-cli');
    assert.deepEqual([...all.values()].flat().map((r) => r.payload), Array.from({ length: 40 }, (_, i) => payload(i)));
    const kinds = (await Promise.all([0, 1, 2].map((p) => storedEntries(cluster.brokers[0]!, 'cz-cli', p).catch(() => ({ kinds: [] as string[] }))))).flatMap((s) => s.kinds);
    assert.ok(kinds.length > 0 && kinds.every((k) => k.startsWith('lz4')), kinds.join(','));
    const bad = await yak(['produce', 'cz-cli', '--compression', 'snappy', '--brokers', cluster.urls().join(',')], { input: '1\n' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--compression must be one of none, gzip, lz4/);
  });

  test('failover and a torn compressed tail lose no acknowledged record', async () => {
    const topic = 'cz-failover';
    await client.createTopic(topic, 1, { 'compression.type': 'lz4' });
    const acked: Acked[] = [];
    const produce = async (n: number) => {
      const records = Array.from({ length: n }, (_, k) => ({ payload: payload(acked.length + k) }));
      const answer = await client.produceBatch(topic, records);
      answer.results.forEach((r, k) => acked.push({ partition: r.partition, offset: r.offset, payload: records[k]!.payload }));
    };
    for (let i = 0; i < 10; i++) await produce(25);
    // Failover: the leader is killed; the next one goes on from the same batch boundaries.
    const { broker: oldLeader } = await cluster.waitForLeader();
    await oldLeader.kill();
    await cluster.waitForLeader(20_000, oldLeader.id);
    for (let i = 0; i < 10; i++) await produce(25);
    oldLeader.start();
    await cluster.waitForInSync(3, 60_000);
    await waitForEqualHwm(cluster.urls(), topic);

    // A torn tail: SIGKILL a follower, cut its last segment inside the last compressed batch.
    const { broker: leader } = await cluster.waitForLeader();
    const follower = cluster.brokers.find((b) => b !== leader)!;
    await follower.kill();
    const { dir, logs } = await partitionDir(follower, topic, 0);
    const last = join(dir, logs[logs.length - 1]!);
    const bytes = await readFile(last);
    let lastStart = 0;
    scanRecords(bytes, { onRecord: (pos) => (lastStart = pos) });
    await truncate(last, lastStart + 20);
    for (let i = 0; i < 4; i++) await produce(25);
    follower.start();
    await cluster.waitForInSync(3, 60_000);
    await waitForEqualHwm(cluster.urls(), topic);
    assert.ok(follower.output.some((l) => /cut \d+ byte\(s\) of torn or corrupt tail/.test(l) || /UNCLEAN/.test(l)), follower.tail(20));

    for (const b of cluster.brokers) {
      const data = await readAll(b.url, topic);
      assert.deepEqual(checkAcked(b.id, data, acked), [], `${b.id}: every acknowledged record at its offset`);
    }
    // Consume from inside batches on every broker, across the failover and the re-fetched tail:
    // contiguous offsets from where asked, the acknowledged payloads, the same answer everywhere.
    const byOffset = new Map(acked.map((a) => [a.offset, a.payload]));
    const end = Math.max(...acked.map((a) => a.offset)) + 1;
    for (const from of [0, 12, 249, 250, 251, 377, 499, 520, end - 1]) {
      const answers = await Promise.all(cluster.urls().map((url) => get(url, `/consume?topic=${topic}&partition=0&offset=${from}&max=30`)));
      for (const c of answers) {
        assert.equal(c.status, 200, c.text);
        const records = c.body.records as { offset: number; payload: unknown }[];
        assert.deepEqual(records.map((r) => r.offset), records.map((_, k) => from + k), `from ${from}: contiguous`);
        for (const r of records) if (byOffset.has(r.offset)) assert.deepEqual(r.payload, byOffset.get(r.offset), `offset ${r.offset}`);
        assert.deepEqual(c.body.records, answers[0]!.body.records, `from ${from}: every replica answers the same`);
      }
    }
  });
});
