import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get, post } from '../../../testkit/http.js';
import { KafkaWire, produceAnswer, produceBody } from '../../../testkit/kafka-wire.js';
import net from 'node:net';

const PRODUCE = 0;
const FETCH = 1;
const MAX_CONNECTIONS = 16;
const batch = (value: string, timestamp = Date.now()) => encodeBatch([{ offset: 0, timestamp, key: null, value: Buffer.from(value), headers: [] }], 0).toBuffer();

/**
 * Security review, against a real broker: what a hostile Kafka client sends is refused with a
 * Kafka error code and changes nothing; one small request cannot make the broker build a huge answer.
 */
describe('hostile Kafka clients against a real broker', () => {
  let cluster: TestCluster;
  let url: string;
  let wire: KafkaWire;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, kafka: true, extra: ['--kafka-max-connections', String(MAX_CONNECTIONS)] });
    const l = (await cluster.waitForLeader()).broker;
    url = l.url;
    wire = await KafkaWire.connect(cluster.kafkaPorts.get(l.id)!);
    // The coordinator's topic exists once a group commits.
    assert.equal((await post(url, '/produce', { topic: 'data', payload: 1 })).status, 200);
    assert.equal((await post(url, '/groups/g/commit', { offsets: [{ topic: 'data', partition: 0, offset: 1 }] })).status, 200);
  });
  after(async () => {
    wire?.close();
    await cluster?.stop();
  });

  const hwm = async (topic: string) => (await get(url, '/topics?internal=true')).body.topics.find((t: { name: string }) => t.name === topic)?.partitions[0].high_watermark;

  test('a Produce to __consumer_offsets is refused INVALID_REQUEST (42): a forged commit cannot reach the group rebuild', async () => {
    const before = await hwm('__consumer_offsets');
    const forged = JSON.stringify({ type: 'offset', group: 'g', topic: 'data', partition: 0, offset: 0, reset: true, metadata: '', commit_timestamp: 0 });
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('__consumer_offsets', 0, batch(forged)))).error, 42);
    assert.equal(await hwm('__consumer_offsets'), before);
    assert.equal((await get(url, '/groups/g/offsets')).body.offsets[0].offset, 1);
  });

  test('a record stamped a year ahead is refused INVALID_TIMESTAMP (32); nothing is written', async () => {
    await wire.request(PRODUCE, 3, produceBody('times', 0, batch('1')));
    const before = await hwm('times');
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('times', 0, batch('2', Date.now() + 365 * 86_400_000)))).error, 32);
    assert.equal(await hwm('times'), before);
  });

  test('a flood of connections past --kafka-max-connections: the excess is closed at accept and logged, the broker goes on answering', async () => {
    const port = cluster.kafkaPorts.get(cluster.brokers[0]!.id)!;
    const flood = Array.from({ length: 3 * MAX_CONNECTIONS }, () => net.connect(port, '127.0.0.1'));
    const closed = await Promise.all(
      flood.map((s) => new Promise<boolean>((resolve) => {
        s.on('error', () => {});
        s.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 5000);
      })),
    );
    // The test's own connection holds one slot: at most MAX_CONNECTIONS - 1 of the flood stay open.
    assert.ok(closed.filter(Boolean).length >= 2 * MAX_CONNECTIONS + 1, `${closed.filter(Boolean).length} of ${flood.length} closed`);
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('after-flood', 0, batch('1')))).error, 0);
    assert.match(cluster.brokers[0]!.output.join('\n'), /closed a new connection from 127\.0\.0\.1:\d+ at accept: 16 connections are open \(--kafka-max-connections\)/);
    for (const s of flood) s.destroy();
  });

  test('a Fetch naming one partition 2,000 times with max_bytes 0 is answered with its records once', async () => {
    const value = JSON.stringify('v'.repeat(10_000));
    for (let i = 0; i < 5; i++) assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('amp', 0, batch(value)))).error, 0);
    const body = new Writer().int32(-1).int32(0).int32(0).int32(0).int8(1)
      .array(['amp'], (w, t) => w.string(t).array(Array.from({ length: 2000 }, () => 0), (w, p) => w.int32(p).int64(0).int32(0x7fffffff))).toBuffer();
    const answer = await wire.request(FETCH, 4, body, 60_000);
    assert.ok(answer.remaining() < 200_000, `${answer.remaining()} bytes answered for 50 KB of records`);
  });
});
