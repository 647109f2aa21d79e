import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { ClusterSnapshot } from '../../../src/shared/cluster-api.js';
import type { Supervisor } from '../../../src/main/supervisor/index.js';
import { startDesktopCluster, type DesktopCluster } from '../../helpers/desktop-cluster.js';
import { kcat } from '../../helpers/kcat.js';

/**
 * The desktop cluster's brokers run Kafka listeners on free ports, and kafkaAccess() tells a
 * developer's client how to connect: the kcat line it gives works as it is (SASL/PLAIN with the
 * `kafka-client` principal), KafkaJS produces with it, and what it produced is what the app reads.
 */
describe('Kafka access to the desktop cluster', () => {
  let sup: Supervisor;
  let cluster: DesktopCluster | undefined;
  let snap: ClusterSnapshot;

  before(async () => {
    cluster = await startDesktopCluster(2);
    ({ sup, snap } = cluster);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('every broker has a Kafka port of its own; the bootstrap servers list them all', async () => {
    const ports = snap.brokers.map((b) => b.kafkaPort);
    assert.ok(ports.every((p) => p > 0));
    assert.equal(new Set([...ports, ...snap.brokers.map((b) => b.port)]).size, 4);
    const access = await sup.kafkaAccess();
    assert.equal(access.bootstrap, ports.map((p) => `127.0.0.1:${p}`).join(','));
    assert.equal(access.username, 'kafka-client');
  });

  it('the kcat line works as given, KafkaJS produces with the same credentials, the app reads the records; a wrong password is refused', async () => {
    const access = await sup.kafkaAccess();
    const listed = await kcat(access.kcat.split(' ').slice(1));
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout.toString(), /2 brokers/);
    const kafka = new Kafka({ brokers: access.bootstrap.split(','), sasl: { mechanism: 'plain', username: access.username, password: access.password }, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'from-kafka', acks: -1, messages: [{ value: '{"hello":"kafka"}', partition: 0 }] });
    await producer.disconnect();
    const read = await sup.consume({ topic: 'from-kafka', partition: 0, offset: 0 });
    assert.deepEqual(read.records.map((r) => r.payload), [{ hello: 'kafka' }]);
    const wrong = await kcat(access.kcat.replace(`sasl.password=${access.password}`, 'sasl.password=nope').split(' ').slice(1), undefined, 15_000);
    assert.notEqual(wrong.code, 0);
  });
});
