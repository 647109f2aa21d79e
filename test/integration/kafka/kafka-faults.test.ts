import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { KafkaWire, fetchAnswer, fetchBody, produceAnswer, produceBody } from '../../../testkit/kafka-wire.js';
import { decodeBatches } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { post } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';
import { kcat, kcatProduceAcross } from '../../helpers/kcat.js';

const batch = (value: string) => encodeBatch([{ offset: 0, timestamp: Date.now(), key: null, value: Buffer.from(value), headers: [] }], 0).toBuffer();
const PRODUCE = 0;
const METADATA = 3;
const FETCH = 1;

/**
 * What can go wrong on the wire and in the cluster, against real brokers: hostile frames close only
 * the connection that sent them and store nothing; a follower refuses produce so clients move to
 * the leader; a SIGKILLed leader loses no acknowledged record while a KafkaJS producer keeps going.
 */
describe('Kafka listener faults', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, partitions: 1, kafka: true, minInsync: 2 });
  });
  after(async () => {
    await cluster?.stop();
  });

  const leader = async () => (await cluster.waitForLeader()).broker;
  const hwm = async (url: string, topic: string) => {
    const t = (await get(url, '/topics')).body.topics.find((x: { name: string }) => x.name === topic);
    return t ? t.partitions[0].high_watermark : -1;
  };

  test('hostile frames (huge size, truncated body, unknown api, unadvertised version) close only their own connection', async () => {
    const l = await leader();
    const port = cluster.kafkaPorts.get(l.id)!;
    const bystander = await KafkaWire.connect(port);
    const ok = await bystander.request(PRODUCE, 3, produceBody('faults', 0, batch('"first"')));
    assert.equal(produceAnswer(ok).error, 0);
    const before = await hwm(l.url, 'faults');

    const huge = await KafkaWire.connect(port);
    huge.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    assert.equal(await huge.closedWithin(5000), true, 'a 2 GiB frame closes the connection');

    const truncated = await KafkaWire.connect(port);
    const full = truncated.frame(PRODUCE, 3, produceBody('faults', 0, batch('"never"')));
    const cut = full.subarray(0, full.length - 20);
    cut.writeInt32BE(cut.length - 4, 0);
    truncated.write(cut);
    assert.equal(await truncated.closedWithin(5000), true, 'a body cut short closes the connection');

    const unknown = await KafkaWire.connect(port);
    unknown.write(unknown.frame(999, 0, Buffer.alloc(0)));
    assert.equal(await unknown.closedWithin(5000), true, 'an unknown api key closes the connection');

    const tooNew = await KafkaWire.connect(port);
    tooNew.write(tooNew.frame(PRODUCE, 9, produceBody('faults', 0, batch('"never"'))));
    assert.equal(await tooNew.closedWithin(5000), true, 'a version not advertised closes the connection');

    const again = await bystander.request(PRODUCE, 3, produceBody('faults', 0, batch('"second"')));
    assert.equal(produceAnswer(again).error, 0, 'the bystander connection still works');
    assert.equal(await hwm(l.url, 'faults'), before + 1, 'nothing from the hostile frames was stored');
    bystander.close();
  });

  test('a batch with a bad CRC is answered CORRUPT_MESSAGE (2) and stores nothing; the connection stays usable', async () => {
    const l = await leader();
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(l.id)!);
    await wire.request(PRODUCE, 3, produceBody('crc', 0, batch('1')));
    const before = await hwm(l.url, 'crc');
    const bad = batch('2');
    bad[bad.length - 1]! ^= 0xff;
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('crc', 0, bad))).error, 2);
    const oversized = batch(JSON.stringify('x'.repeat(1_100_000)));
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('crc', 0, oversized))).error, 10, 'MESSAGE_TOO_LARGE');
    assert.equal(await hwm(l.url, 'crc'), before);
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('crc', 0, batch('3')))).error, 0);
    wire.close();
  });

  test('a follower answers produce with NOT_LEADER_OR_FOLLOWER (6); Metadata names the leader for every partition', async () => {
    const l = await leader();
    const follower = cluster.brokers.find((b) => b.id !== l.id)!;
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(follower.id)!);
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('crc', 0, batch('4')))).error, 6);
    const leaderPort = cluster.kafkaPorts.get(l.id)!;
    // A follower learns the leader's Kafka address from its Redis registration, within moments of the start.
    const { meta, leaderNode } = await waitFor('the follower names the leader', async () => {
      const meta = await wire.request(METADATA, 1, new Writer().array(['crc'], (w, t) => w.string(t)).toBuffer());
      const brokers = meta.array((r) => ({ node: r.int32(), host: r.string(), port: r.int32(), rack: r.nullableString() }));
      const leaderNode = brokers.find((b) => b.port === leaderPort)?.node;
      return leaderNode === undefined ? null : { meta, leaderNode };
    });
    assert.equal(meta.int32(), leaderNode, 'the controller is the leader');
    meta.int32(); // topics
    assert.equal(meta.int16(), 0);
    assert.equal(meta.string(), 'crc');
    meta.boolean();
    meta.int32(); // partitions
    assert.equal(meta.int16(), 0);
    assert.equal(meta.int32(), 0);
    assert.equal(meta.int32(), leaderNode, 'partition 0 is led by the cluster leader');
    wire.close();
  });

  test('pipelined produces on one connection are answered in request order and appended in that order', async () => {
    const l = await leader();
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(l.id)!);
    await wire.request(PRODUCE, 3, produceBody('pipe', 0, batch('0')));
    const frames = Array.from({ length: 30 }, (_, i) => wire.frame(PRODUCE, 3, produceBody('pipe', 0, batch(String(i + 1)))));
    wire.write(Buffer.concat(frames));
    const answers = await wire.answers(30);
    const ids = answers.map(([id]) => id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'answers in request order');
    const offsets = answers.map(([, r]) => produceAnswer(r).baseOffset);
    assert.deepEqual(offsets, offsets.map((_, i) => offsets[0]! + i), 'offsets follow the order the requests were sent in');
    wire.close();
  });

  test('acks=0 gets no answer but is stored; the next request on the connection is answered with its own correlation id', async () => {
    const l = await leader();
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(l.id)!);
    await wire.request(PRODUCE, 3, produceBody('acks0', 0, batch('"first"')));
    const before = await hwm(l.url, 'acks0');
    wire.write(wire.frame(PRODUCE, 3, produceBody('acks0', 0, batch('"fire and forget"'), 0)));
    const next = await wire.request(PRODUCE, 3, produceBody('acks0', 0, batch('"after"')));
    assert.equal(produceAnswer(next).baseOffset, before + 1, 'the acks=0 record took the offset before it');
    wire.close();
  });

  test('a follower serves Fetch with committed records only, and its long poll ends when a record commits', async () => {
    const l = await leader();
    const follower = cluster.brokers.find((b) => b.id !== l.id && b.running())!;
    await post(l.url, '/topics', { name: 'poll', partitions: 1 });
    await waitFor('the follower has the topic', async () => (await hwm(follower.url, 'poll')) === 0);
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(follower.id)!);
    const pending = wire.request(FETCH, 4, fetchBody('poll', 0, 0, 20_000), 30_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await post(l.url, '/produce', { topic: 'poll', partition: 0, payload: { polled: true } })).status, 200);
    const answer = fetchAnswer(await pending);
    assert.equal(answer.error, 0);
    const [first] = decodeBatches(answer.records, 0);
    assert.equal(first!.records[0]!.value!.toString(), '{"polled":true}');
    assert.ok(answer.hwm >= 1);
    wire.close();
  });

  test('a KafkaJS producer (acks all) keeps going across a SIGKILL of the leader; no acknowledged record is lost', async () => {
    const kafka = new Kafka({ clientId: 'failover', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 } });
    const producer = kafka.producer();
    await producer.connect();
    const acked: string[] = [];
    const old = await leader();
    let killed = false;
    try {
      for (let i = 0; i < 60; i++) {
        if (i === 20) {
          await old.kill();
          killed = true;
        }
        const value = `{"i":${i}}`;
        const [r] = await producer.send({ topic: 'failover', acks: -1, messages: [{ key: String(i), value, partition: 0 }] });
        assert.equal(r!.errorCode, 0);
        acked.push(value);
      }
    } finally {
      await producer.disconnect();
    }
    assert.ok(killed);
    const now = await cluster.waitForLeader(20_000, old.id);
    const stored = await waitFor('every acknowledged record on the new leader', async () => {
      const res = await get(now.broker.url, '/consume?topic=failover&partition=0&offset=0&max=1000');
      const values = (res.body.records as { payload: unknown }[]).map((r) => JSON.stringify(r.payload));
      return acked.every((v) => values.includes(v)) ? values : null;
    });
    console.log(`acknowledged ${acked.length}, stored ${stored.length} (duplicates from retried timeouts are allowed without idempotence)`);
    old.start();
    await cluster.waitForInSync(3, 30_000);
  });

  test('kcat -P (librdkafka, acks all) keeps going across a SIGKILL of the leader and delivers every line', async () => {
    const old = await leader();
    const total = 200;
    const lines = Array.from({ length: total }, (_, i) => `{"line":${i}}`);
    const sent = await kcatProduceAcross(['-b', cluster.bootstrap().join(','), '-P', '-t', 'kcat-failover', '-p', '0', '-X', 'acks=all', '-X', 'message.timeout.ms=60000', '-X', 'linger.ms=0'], lines, () => old.kill());
    assert.equal(sent.code, 0, `kcat reports every line delivered: ${sent.stderr}`);
    const now = await cluster.waitForLeader(20_000, old.id);
    const values = await waitFor('every line on the new leader', async () => {
      const res = await get(now.broker.url, '/consume?topic=kcat-failover&partition=0&offset=0&max=2000');
      const lines = new Set((res.body.records as { payload: { line: number } }[]).map((r) => r.payload.line));
      return lines.size === total ? lines : null;
    }, 30_000);
    assert.equal(values.size, total);
    // Kafka clients stop being told of the dead broker once its registration expires (it stayed in
    // Metadata for as long as the others ran: an expired registration names no Kafka address).
    const oldAddress = `127.0.0.1:${cluster.kafkaPorts.get(old.id)}`;
    const alive = cluster.bootstrap().filter((a) => a !== oldAddress).join(',');
    const listed = await waitFor('Metadata without the killed broker', async () => {
      const md = await kcat(['-L', '-b', alive]);
      return md.code === 0 && md.stdout.toString().includes(' 2 brokers:') && !md.stdout.toString().includes(`at ${oldAddress}`) ? md.stdout.toString() : null;
    }, 20_000);
    assert.match(listed, / 2 brokers:/);
    old.start();
    await cluster.waitForInSync(3, 30_000);
  });
});
