import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call } from '../../../testkit/http.js';
import { kcat } from '../../helpers/kcat.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * A compacted topic (cleanup.policy=compact) read by a Kafka client nobody here wrote (kcat,
 * librdkafka): after compaction its offsets have gaps, and a range of only gaps is answered with an
 * empty batch, as Kafka does; kcat reads from the beginning to the end (-e) and sees the latest
 * value of every key, each record at the offset it was written at.
 */
describe('a compacted topic over the Kafka listener', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, kafka: true, extra: ['--segment-bytes', '1024', '--retention-check-seconds', '1'] });
  });
  after(async () => cluster?.stop());

  test('kcat reads the latest value of every key through the gaps, to the end', async () => {
    const url = (await cluster.waitForLeader()).broker.url;
    const created = await call(url, 'POST', '/topics', { name: 'table', partitions: 1, config: { 'cleanup.policy': 'compact' } });
    assert.equal(created.status, 201, created.text);
    const records = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 6}`, payload: { i }, partition: 0 }));
    for (let i = 0; i < records.length; i += 30) assert.equal((await call(url, 'POST', '/produce/batch', { topic: 'table', records: records.slice(i, i + 30) })).status, 200);
    // The tail of the log: superseded records everywhere, but the last segment (active) keeps its own.
    for (let i = 0; i < 3; i++) assert.equal((await call(url, 'POST', '/produce', { topic: 'table', key: `tail${i}`, payload: { tail: i }, partition: 0 })).status, 200);
    await waitFor('the broker compacted the topic', async () => cluster.brokers[0]!.output.some((l) => l.includes('compaction: table/0')) || null, 30_000);

    const out = await kcat(['-b', cluster.bootstrap()[0]!, '-C', '-t', 'table', '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %k %s\n']);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.toString().trim().split('\n').map((l) => l.split(' ') as [string, string, string]);
    const latest = new Map<string, { offset: number; value: string }>();
    for (const [o, k, v] of lines) latest.set(k, { offset: Number(o), value: v });
    for (let k = 0; k < 6; k++) {
      const last = 300 - 6 + k;
      assert.deepEqual(latest.get(`k${k}`), { offset: last, value: JSON.stringify({ i: last }) }, `key k${k}`);
    }
    assert.equal(latest.get('tail2')?.offset, 302);
    assert.ok(lines.length < 303, `compaction removed superseded records (${lines.length} read of 303)`);
    const offsets = lines.map(([o]) => Number(o));
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'offsets increase');
  });
});
