import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get, post } from '../../../testkit/http.js';
import { kcat } from '../../helpers/kcat.js';

/**
 * Real Kafka clients nobody here wrote — kcat (librdkafka 2.0) and KafkaJS 2.2.4 — against a real
 * 3-broker YAK cluster with Kafka listeners: what they produce comes back byte for byte, to both
 * worlds (Kafka and REST).
 */
describe('Kafka clients against a YAK cluster', () => {
  let cluster: TestCluster;
  let bootstrap: string;
  let leaderUrl: string;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, partitions: 3, kafka: true });
    bootstrap = cluster.bootstrap().join(',');
    leaderUrl = (await cluster.waitForLeader()).broker.url;
  });
  after(async () => {
    await cluster?.stop();
  });

  const kafka = () => new Kafka({ clientId: 'yak-test', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 10 } });

  test('kcat -P with keys and headers, then kcat -C from the beginning gives back every key, value, offset, partition and header', async () => {
    const lines = 'k1:{"a":1}\nk2:hello world\nk3:  spaced text  \n';
    const produced = await kcat(['-b', bootstrap, '-P', '-t', 'kc1', '-p', '0', '-K:', '-H', 'trace=abc', '-H', 'n=1'], lines);
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat(['-b', bootstrap, '-C', '-t', 'kc1', '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%k|%s|%o|%p|%h\n']);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(
      consumed.stdout.toString(),
      'k1|{"a":1}|0|0|trace=abc,n=1\nk2|hello world|1|0|trace=abc,n=1\nk3|  spaced text  |2|0|trace=abc,n=1\n',
    );
  });

  test('values that are not UTF-8 come back byte for byte; REST sees them as base64 with a marker', async () => {
    const value = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const produced = await kcat(['-b', bootstrap, '-P', '-t', 'kc2', '-p', '1', '-D', '\x01'], Buffer.concat([value, Buffer.from([0x01])]));
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat(['-b', bootstrap, '-C', '-t', 'kc2', '-p', '1', '-o', 'beginning', '-e', '-q', '-f', '%s']);
    assert.deepEqual(consumed.stdout, value);
    const rest = await get(leaderUrl, '/consume?topic=kc2&partition=1&offset=0');
    const record = rest.body.records[0];
    assert.equal(record.payload, value.toString('base64'));
    assert.equal(record.headers['yak.value'], 'base64');
  });

  test('-o end, -o N and an empty partition: kcat -C -e reads exactly what is there', async () => {
    await kcat(['-b', bootstrap, '-P', '-t', 'kc3', '-p', '2'], 'a\nb\nc\nd\n');
    const fromTwo = await kcat(['-b', bootstrap, '-C', '-t', 'kc3', '-p', '2', '-o', '2', '-e', '-q', '-f', '%o:%s\n']);
    assert.equal(fromTwo.stdout.toString(), '2:c\n3:d\n');
    const atEnd = await kcat(['-b', bootstrap, '-C', '-t', 'kc3', '-p', '2', '-o', 'end', '-e', '-q', '-f', '%o:%s\n']);
    assert.equal(atEnd.code, 0, atEnd.stderr);
    assert.equal(atEnd.stdout.toString(), '');
  });

  test('a REST record reaches kcat as its UTF-8 JSON text, with its key and headers', async () => {
    const r = await post(leaderUrl, '/produce', { topic: 'kc4', key: 'user-1', partition: 0, payload: { n: 1, s: 'é' }, headers: { h: 'v' } });
    assert.equal(r.status, 200);
    const consumed = await kcat(['-b', bootstrap, '-C', '-t', 'kc4', '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%k|%s|%h\n']);
    assert.equal(consumed.stdout.toString(), 'user-1|{"n":1,"s":"é"}|h=v\n');
  });

  test('KafkaJS producer (acks all and 1, keys, headers) and admin (createTopics, listTopics, fetchTopicOffsets)', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 2 }] }), true);
      assert.ok((await admin.listTopics()).includes('kjs'));
      const producer = kafka().producer();
      await producer.connect();
      try {
        const all = await producer.send({ topic: 'kjs', acks: -1, messages: [{ key: 'a', value: '{"x":1}', partition: 0, headers: { h1: 'one', h2: Buffer.from([0xc3, 0x28]) } }] });
        assert.equal(all[0]!.errorCode, 0);
        const one = await producer.send({ topic: 'kjs', acks: 1, messages: [{ key: 'b', value: 'plain', partition: 0 }, { key: null, value: null, partition: 1 }] });
        assert.ok(one.every((r) => r.errorCode === 0));
      } finally {
        await producer.disconnect();
      }
      const offsets = await admin.fetchTopicOffsets('kjs');
      assert.deepEqual(
        offsets.map((o) => [o.partition, o.low, o.high]).sort(),
        [[0, '0', '2'], [1, '0', '1']],
      );
    } finally {
      await admin.disconnect();
    }
    const consumed = await kcat(['-b', bootstrap, '-C', '-t', 'kjs', '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%k|%s|%h\n']);
    assert.deepEqual(consumed.stdout, Buffer.concat([Buffer.from('a|{"x":1}|h1=one,h2='), Buffer.from([0xc3, 0x28]), Buffer.from('\nb|plain|\n')]));
    const tombstone = await kcat(['-b', bootstrap, '-C', '-t', 'kjs', '-p', '1', '-o', 'beginning', '-e', '-q', '-Z', '-f', '%S|%K\n']);
    assert.equal(tombstone.stdout.toString(), '-1|-1\n');
  });

  test('offsets by timestamp: KafkaJS fetchTopicOffsetsByTimestamp and kcat -o s@TS find the first record at or after it', async () => {
    const producer = kafka().producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'kts', acks: -1, messages: ['1000', '2000', '3000'].map((timestamp, i) => ({ value: `v${i}`, timestamp, partition: 0 })) });
    } finally {
      await producer.disconnect();
    }
    const admin = kafka().admin();
    await admin.connect();
    try {
      const found = await admin.fetchTopicOffsetsByTimestamp('kts', 1500);
      assert.equal(found.find((p) => p.partition === 0)!.offset, '1');
    } finally {
      await admin.disconnect();
    }
    const consumed = await kcat(['-b', bootstrap, '-C', '-t', 'kts', '-p', '0', '-o', 's@2500', '-e', '-q', '-f', '%o %T %s\n']);
    assert.equal(consumed.stdout.toString(), '2 3000 v2\n');
  });
});
