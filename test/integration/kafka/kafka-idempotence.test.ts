import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { asIdempotent, initProducerIdAnswer, initProducerIdBody, KafkaWire, produceAnswer, produceBody } from '../../../testkit/kafka-wire.js';
import { waitFor } from '../../../testkit/wait.js';
import { kcatProduceAcross } from '../../helpers/kcat.js';

const PRODUCE = 0;
const INIT_PRODUCER_ID = 22;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const INVALID_PRODUCER_EPOCH = 47;

/** One uncompressed batch of `values` (JSON texts) as producer `pid` sends it from `seq`. */
const idempotentBatch = (values: string[], pid: number, epoch: number, seq: number) =>
  asIdempotent(encodeBatch(values.map((v, i) => ({ offset: i, timestamp: Date.now(), key: null, value: Buffer.from(v), headers: [] })), 0).toBuffer(), pid, epoch, seq);

interface Consumed {
  offset: number;
  payload: unknown;
  headers: Record<string, string>;
}

/**
 * Kafka's idempotent producer (enable.idempotence) against real brokers: a batch re-sent after
 * it was appended — to the same leader or to the next one after a SIGKILL — is answered with its
 * original offset and stored once; a sequence gap and an old producer epoch change nothing; KafkaJS
 * (`idempotent: true`) and kcat (`enable.idempotence=true`) keep going across a failover without
 * duplicates or losses.
 */
describe('Kafka idempotent producers', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, partitions: 1, kafka: true, minInsync: 2 });
  });
  after(async () => {
    await cluster?.stop();
  });

  const leader = async () => (await cluster.waitForLeader()).broker;
  const consume = async (url: string, topic: string): Promise<Consumed[]> => (await get(url, `/consume?topic=${topic}&partition=0&offset=0&max=5000`)).body.records;
  const endOffset = async (url: string, topic: string): Promise<number> => {
    const t = (await get(url, '/topics')).body.topics.find((x: { name: string }) => x.name === topic);
    return t ? t.partitions[0].log_end_offset : -1;
  };
  const producerId = async (wire: KafkaWire) => {
    const answer = initProducerIdAnswer(await wire.request(INIT_PRODUCER_ID, 1, initProducerIdBody()));
    assert.equal(answer.error, 0);
    return answer.producerId;
  };

  test('InitProducerId: every broker, leader or follower, gives out ids at epoch 0, none twice', async () => {
    // librdkafka asks whichever broker it is connected to (after its leader died, kcat kept asking a
    // follower), so every broker answers, with ids counted in Redis under the lease's epoch.
    const ids: number[] = [];
    for (const b of cluster.brokers) {
      const wire = await KafkaWire.connect(cluster.kafkaPorts.get(b.id)!);
      for (let i = 0; i < 3; i++) {
        const a = initProducerIdAnswer(await wire.request(INIT_PRODUCER_ID, i % 2, initProducerIdBody()));
        assert.deepEqual([a.error, a.producerEpoch], [0, 0], `broker ${b.id} answers`);
        ids.push(a.producerId);
      }
      wire.close();
    }
    assert.equal(new Set(ids).size, ids.length, `no id given twice: ${ids.join(', ')}`);
    assert.ok(ids.every((id) => Number.isSafeInteger(id) && id > 0));
  });

  test('raw wire: a re-sent batch gets its original offset and is stored once; a gap and an old epoch are refused and change nothing', async () => {
    const l = await leader();
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(l.id)!);
    const pid = await producerId(wire);
    const first = produceAnswer(await wire.request(PRODUCE, 3, produceBody('idem', 0, idempotentBatch(['"a"', '"b"'], pid, 0, 0))));
    assert.equal(first.error, 0);
    const end = await endOffset(l.url, 'idem');

    const again = produceAnswer(await wire.request(PRODUCE, 3, produceBody('idem', 0, idempotentBatch(['"a"', '"b"'], pid, 0, 0))));
    assert.deepEqual(again, first, 'the same batch again: its original offset, success');
    assert.equal(await endOffset(l.url, 'idem'), end, 'and nothing appended');

    const gap = produceAnswer(await wire.request(PRODUCE, 3, produceBody('idem', 0, idempotentBatch(['"c"'], pid, 0, 3))));
    assert.equal(gap.error, OUT_OF_ORDER_SEQUENCE_NUMBER, 'sequence 2 was expected');
    assert.equal(await endOffset(l.url, 'idem'), end, 'the gap changed nothing');

    const next = produceAnswer(await wire.request(PRODUCE, 3, produceBody('idem', 0, idempotentBatch(['"c"'], pid, 0, 2))));
    assert.deepEqual(next, { error: 0, baseOffset: first.baseOffset + 2 }, 'the expected sequence still goes in');
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('idem', 0, idempotentBatch(['"x"'], pid, 1, 0)))).error, 0, 'a new producer epoch starts at 0');
    const old = produceAnswer(await wire.request(PRODUCE, 3, produceBody('idem', 0, idempotentBatch(['"y"'], pid, 0, 3))));
    assert.equal(old.error, INVALID_PRODUCER_EPOCH);

    const stored = await consume(l.url, 'idem');
    assert.deepEqual(stored.map((r) => r.payload), ['a', 'b', 'c', 'x']);
    assert.equal(stored[0]!.headers['yak.producer'], `${pid} 0 0 2`, 'the first record of a batch carries its producer marker');
    assert.equal(stored[1]!.headers['yak.producer'], undefined);
    wire.close();
  });

  test('after a SIGKILL of the leader, the new leader answers a re-sent batch with its original offset (the state is rebuilt from its log)', async () => {
    const old = await leader();
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(old.id)!);
    const pid = await producerId(wire);
    const acked = produceAnswer(await wire.request(PRODUCE, 3, produceBody('idem-failover', 0, idempotentBatch(['1', '2', '3'], pid, 0, 0))));
    assert.equal(acked.error, 0);
    wire.close();
    await old.kill();
    const now = (await cluster.waitForLeader(20_000, old.id)).broker;
    const end = await endOffset(now.url, 'idem-failover');
    const nw = await KafkaWire.connect(cluster.kafkaPorts.get(now.id)!);
    const resent = await waitFor('the new leader answers the re-sent batch', async () => {
      const a = produceAnswer(await nw.request(PRODUCE, 3, produceBody('idem-failover', 0, idempotentBatch(['1', '2', '3'], pid, 0, 0))));
      return a.error === 0 ? a : null;
    }, 20_000);
    assert.deepEqual(resent, acked, 'the original offset, from the new leader');
    assert.equal(await endOffset(now.url, 'idem-failover'), end, 'not appended twice');
    const gap = produceAnswer(await nw.request(PRODUCE, 3, produceBody('idem-failover', 0, idempotentBatch(['5'], pid, 0, 4))));
    assert.equal(gap.error, OUT_OF_ORDER_SEQUENCE_NUMBER, 'the new leader knows sequence 3 comes next');
    assert.equal(produceAnswer(await nw.request(PRODUCE, 3, produceBody('idem-failover', 0, idempotentBatch(['4'], pid, 0, 3)))).error, 0);
    assert.deepEqual((await consume(now.url, 'idem-failover')).map((r) => r.payload), [1, 2, 3, 4]);
    nw.close();
    old.start();
    await cluster.waitForInSync(3, 30_000);
  });

  test('a KafkaJS idempotent producer keeps going across a SIGKILL of the leader: every acknowledged record stored, none twice', async () => {
    const kafka = new Kafka({ clientId: 'idem-kafkajs', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2000 } });
    await producer.connect();
    const acked: number[] = [];
    const old = await leader();
    try {
      for (let i = 0; i < 40; i++) {
        if (i === 15) await old.kill();
        // Three records a send: a retried batch must come back whole or not at all.
        const messages = [0, 1, 2].map((k) => ({ value: JSON.stringify({ n: i * 3 + k }), partition: 0 }));
        const [r] = await producer.send({ topic: 'idem-kafkajs', acks: -1, messages });
        assert.equal(r!.errorCode, 0);
        acked.push(i * 3, i * 3 + 1, i * 3 + 2);
      }
    } finally {
      await producer.disconnect();
    }
    const now = (await cluster.waitForLeader(20_000, old.id)).broker;
    const records = await waitFor('every acknowledged record on the new leader', async () => {
      const rs = await consume(now.url, 'idem-kafkajs');
      return acked.every((n) => rs.some((r) => (r.payload as { n: number }).n === n)) ? rs : null;
    });
    const stored = records.map((r) => (r.payload as { n: number }).n);
    assert.ok(records.some((r) => r.headers['yak.producer'] !== undefined), 'KafkaJS sent idempotent batches');
    assert.equal(new Set(stored).size, stored.length, `no record stored twice: ${stored.join(',')}`);
    assert.deepEqual(stored, [...stored].sort((a, b) => a - b), 'in the order sent');
    old.start();
    await cluster.waitForInSync(3, 30_000);
  });

  test('kcat -X enable.idempotence=true delivers every line exactly once across a SIGKILL of the leader', async () => {
    const old = await leader();
    const total = 200;
    const lines = Array.from({ length: total }, (_, i) => `{"line":${i}}`);
    const sent = await kcatProduceAcross(['-b', cluster.bootstrap().join(','), '-P', '-t', 'idem-kcat', '-p', '0', '-X', 'enable.idempotence=true', '-X', 'message.timeout.ms=60000', '-X', 'linger.ms=5'], lines, () => old.kill());
    assert.equal(sent.code, 0, `kcat reports every line delivered: ${sent.stderr}`);
    const now = (await cluster.waitForLeader(20_000, old.id)).broker;
    const records = await waitFor('every line on the new leader', async () => {
      const rs = await consume(now.url, 'idem-kcat');
      return new Set(rs.map((r) => (r.payload as { line: number }).line)).size === total ? rs : null;
    }, 30_000);
    assert.equal(records.length, total, 'no line stored twice');
    assert.ok(records.some((r) => r.headers['yak.producer'] !== undefined), 'librdkafka sent idempotent batches');
    old.start();
    await cluster.waitForInSync(3, 30_000);
  });
});
