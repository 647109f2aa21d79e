import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call } from '../../../testkit/http.js';
import { KafkaWire } from '../../../testkit/kafka-wire.js';

const CREATE_TOPICS = 19;
const INVALID_PARTITIONS = 37;

/**
 * Every broker holds every partition (a folder, its files, memory), and any produce to a new topic
 * name creates a topic: without a cap a client inventing names filled the brokers' disks and
 * memory. With --max-partitions 5, a creation that would pass 5 partitions over all topics is
 * refused — REST 409 TOO_MANY_PARTITIONS, Kafka INVALID_PARTITIONS (37) — whether it is asked for
 * (POST /topics, CreateTopics) or implied (a first produce), and creates nothing; the internal
 * offsets topic is not counted.
 */
describe('partition cap (--max-partitions)', () => {
  let cluster: TestCluster;
  let url: string;
  let wire: KafkaWire | undefined;
  const topicNames = async () => ((await call(url, 'GET', '/topics')).body as { topics: { name: string }[] }).topics.map((t) => t.name).sort();

  before(async () => {
    cluster = await TestCluster.start({ brokers: 1, partitions: 2, kafka: true, extra: ['--max-partitions', '5'] });
    url = (await cluster.waitForLeader()).broker.url;
  });
  after(async () => {
    wire?.close();
    await cluster?.stop();
  });

  test('REST, a first produce and Kafka CreateTopics past the cap are refused and create nothing', async () => {
    assert.equal((await call(url, 'POST', '/topics', { name: 'a', partitions: 3 })).status, 201);

    const refused = await call(url, 'POST', '/topics', { name: 'b', partitions: 3 });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'TOO_MANY_PARTITIONS');
    assert.equal(refused.body.limit, 5);

    // A first produce creates the topic with --partitions (2): 3 + 2 fits, 3 + 2 + 2 does not.
    assert.equal((await call(url, 'POST', '/produce', { topic: 'fresh', payload: 1 })).status, 200);
    const implied = await call(url, 'POST', '/produce', { topic: 'fresh-2', payload: 1 });
    assert.equal(implied.status, 409, implied.text);
    assert.equal(implied.body.error, 'TOO_MANY_PARTITIONS');
    const batch = await call(url, 'POST', '/produce/batch', { topic: 'fresh-3', records: [{ payload: 1 }, { payload: 2 }] });
    assert.equal(batch.status, 409, batch.text);

    const port = cluster.kafkaPorts.get(cluster.brokers[0]!.id)!;
    wire = await KafkaWire.connect(port);
    const body = new Writer()
      .array(['k'], (w, name) => w.string(name).int32(1).int16(1).array([], () => undefined).array([], () => undefined))
      .int32(10_000)
      .toBuffer();
    const r = await wire.request(CREATE_TOPICS, 0, body);
    const answers = r.array((r) => ({ name: r.string(), error: r.int16() }));
    assert.deepEqual(answers, [{ name: 'k', error: INVALID_PARTITIONS }]);

    assert.deepEqual(await topicNames(), ['a', 'fresh'], 'nothing was created by a refusal');

    // The internal offsets topic is the broker's own: a group commit still works with the cap reached.
    const commit = await call(url, 'POST', '/groups/g/commit', { offsets: [{ topic: 'fresh', partition: 0, offset: 0 }] });
    assert.equal(commit.status, 200, commit.text);
  });
});
