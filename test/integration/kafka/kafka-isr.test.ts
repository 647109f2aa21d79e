import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { KafkaWire, produceAnswer, produceBody } from '../../../testkit/kafka-wire.js';
import { waitFor } from '../../../testkit/wait.js';

const PRODUCE = 0;
const batch = (value: string) => encodeBatch([{ offset: 0, timestamp: Date.now(), key: null, value: Buffer.from(value), headers: [] }], 0).toBuffer();

/** --min-insync over the Kafka protocol: fewer in-sync replicas than required is NOT_ENOUGH_REPLICAS (19), and nothing is written. */
describe('Kafka produce under --min-insync', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 2, partitions: 1, kafka: true, minInsync: 2 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('with its only follower gone, the leader answers NOT_ENOUGH_REPLICAS and stores nothing', async () => {
    const { broker: leader } = await cluster.waitForLeader();
    const wire = await KafkaWire.connect(cluster.kafkaPorts.get(leader.id)!);
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('isr', 0, batch('1')))).error, 0);
    await cluster.brokers.find((b) => b.id !== leader.id)!.kill();
    await waitFor('the leader drops the follower from the in-sync set', async () => {
      const view = (await get(leader.url, '/metadata/cluster')).body as { brokers: { in_sync: boolean }[] };
      return view.brokers.filter((b) => b.in_sync).length === 1;
    }, 20_000);
    const hwmBefore = (await get(leader.url, '/topics')).body.topics[0].partitions[0].log_end_offset;
    assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('isr', 0, batch('2')))).error, 19);
    assert.equal((await get(leader.url, '/topics')).body.topics[0].partitions[0].log_end_offset, hwmBefore, 'nothing was written');
    wire.close();
  });
});
