import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call, get } from '../../../testkit/http.js';
import { asIdempotent, initProducerIdAnswer, initProducerIdBody, KafkaWire, produceAnswer, produceBody } from '../../../testkit/kafka-wire.js';
import { waitFor } from '../../../testkit/wait.js';

const PRODUCE = 0;
const INIT_PRODUCER_ID = 22;
const TOPIC = 'idem-compacted';

/** One uncompressed batch of [key, value] pairs (values JSON texts) as producer `pid` sends it from `seq`. */
const keyedBatch = (pairs: [string, string][], pid: number, seq: number) =>
  asIdempotent(encodeBatch(pairs.map(([k, v], i) => ({ offset: i, timestamp: Date.now(), key: Buffer.from(k), value: Buffer.from(v), headers: [] })), 0).toBuffer(), pid, 0, seq);

interface Consumed {
  offset: number;
  key: string | null;
  payload: unknown;
  headers: Record<string, string>;
}

/**
 * An idempotent producer on a compacted topic (cleanup.policy=compact) across a failover: the
 * `yak.producer` marker on the first record of its batch is what the next leader rebuilds the
 * producer's last sequence from, and that record's key was written again later in the batch.
 * Compaction on every replica must not remove it (security review: before, it did, and the
 * producer's retry of the batch to the new leader was appended a second time).
 */
describe('Kafka idempotent producers on a compacted topic', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, partitions: 1, kafka: true, minInsync: 2, extra: ['--segment-bytes', '1024', '--retention-check-seconds', '1'] });
  });
  after(async () => cluster?.stop());

  const consume = async (url: string): Promise<Consumed[]> => (await get(url, `/consume?topic=${TOPIC}&partition=0&offset=0&max=5000`)).body.records;
  const endOffset = async (url: string): Promise<number> => (await get(url, '/topics')).body.topics.find((x: { name: string }) => x.name === TOPIC).partitions[0].log_end_offset;

  test('after compaction on every replica and a SIGKILL of the leader, a re-sent batch is answered with its original offset, not appended again', async () => {
    const old = (await cluster.waitForLeader()).broker;
    const created = await call(old.url, 'POST', '/topics', { name: TOPIC, partitions: 1, config: { 'cleanup.policy': 'compact' } });
    assert.equal(created.status, 201, created.text);
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(old.id)!);
    const init = initProducerIdAnswer(await wire.request(INIT_PRODUCER_ID, 1, initProducerIdBody()));
    assert.equal(init.error, 0);
    const pid = init.producerId;
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody(TOPIC, 0, keyedBatch([['k', '"k0"']], pid, 0)))).error, 0);
    // The marker is on k=k1, superseded by k=k2 in the same batch; j=j1 superseded by j=j2 shows when a replica compacted it.
    const last: [string, string][] = [['k', '"k1"'], ['k', '"k2"'], ['j', '"j1"'], ['j', '"j2"']];
    const acked = produceAnswer(await wire.request(PRODUCE, 3, produceBody(TOPIC, 0, keyedBatch(last, pid, 1))));
    assert.equal(acked.error, 0);
    wire.close();
    // Keyless filler closes the batch's segment and moves the high-water mark past it.
    for (let i = 0; i < 3; i++) {
      const filler = Array.from({ length: 20 }, (_, n) => ({ key: null, payload: { filler: i * 20 + n, pad: 'x'.repeat(40) }, partition: 0 }));
      assert.equal((await call(old.url, 'POST', '/produce/batch', { topic: TOPIC, records: filler })).status, 200);
    }
    for (const b of cluster.brokers) {
      const records = await waitFor(`broker ${b.id} compacted the batch's segment`, async () => {
        const rs = await consume(b.url);
        return rs.some((r) => r.key === 'j' && r.payload === 'j2') && !rs.some((r) => r.key === 'j' && r.payload === 'j1') ? rs : null;
      }, 30_000);
      const marker = records.find((r) => r.offset === acked.baseOffset);
      assert.equal(marker?.headers['yak.producer'], `${pid} 0 1 4`, `broker ${b.id} kept the batch's marker record`);
    }

    await old.kill();
    const now = (await cluster.waitForLeader(20_000, old.id)).broker;
    const end = await endOffset(now.url);
    const nw = await KafkaWire.connect(cluster.kafkaPorts.get(now.id)!);
    const resent = await waitFor('the new leader answers the re-sent batch', async () => {
      const a = produceAnswer(await nw.request(PRODUCE, 3, produceBody(TOPIC, 0, keyedBatch(last, pid, 1))));
      return a.error === 0 ? a : null;
    }, 20_000);
    assert.deepEqual(resent, acked, 'the original offset, from the new leader');
    assert.equal(await endOffset(now.url), end, 'not appended twice');
    nw.close();
    old.start();
    await cluster.waitForInSync(3, 30_000);
  });
});
