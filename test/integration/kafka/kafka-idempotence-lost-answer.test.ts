import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { kcat } from '../../helpers/kcat.js';
import { freePort } from '../../../testkit/ports.js';

const PRODUCE = 0;

/**
 * A TCP proxy in front of a broker's Kafka port that lets the first Produce through and then loses
 * its answer (closes the client's connection instead of passing it on), once armed. The record is
 * committed; the client only sees a dropped connection and retries the same batch.
 */
class AnswerLosingProxy {
  armed = false;
  lost = 0;
  private readonly server: net.Server;

  constructor(target: number) {
    this.server = net.createServer((client) => {
      const broker = net.connect(target, '127.0.0.1');
      const produceIds = new Set<number>();
      let fromClient = Buffer.alloc(0);
      let fromBroker = Buffer.alloc(0);
      const close = () => {
        client.destroy();
        broker.destroy();
      };
      client.on('error', close);
      broker.on('error', close);
      client.on('close', close);
      broker.on('close', close);
      client.on('data', (d: Buffer) => {
        fromClient = Buffer.concat([fromClient, d]);
        while (fromClient.length >= 4 && fromClient.length >= 4 + fromClient.readInt32BE(0)) {
          const size = fromClient.readInt32BE(0);
          if (fromClient.readInt16BE(4) === PRODUCE) produceIds.add(fromClient.readInt32BE(8));
          fromClient = fromClient.subarray(4 + size);
        }
        broker.write(d);
      });
      broker.on('data', (d: Buffer) => {
        fromBroker = Buffer.concat([fromBroker, d]);
        const out: Buffer[] = [];
        while (fromBroker.length >= 4 && fromBroker.length >= 4 + fromBroker.readInt32BE(0)) {
          const size = fromBroker.readInt32BE(0);
          const frame = fromBroker.subarray(0, 4 + size);
          fromBroker = fromBroker.subarray(4 + size);
          if (this.armed && produceIds.has(frame.readInt32BE(4))) {
            this.armed = false;
            this.lost++;
            if (out.length) client.write(Buffer.concat(out));
            close();
            return;
          }
          out.push(frame);
        }
        if (out.length) client.write(Buffer.concat(out));
      });
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
  }

  close(): void {
    this.server.close();
  }
}

/**
 * The retry Kafka's idempotence exists for: a Produce committed whose answer is lost. KafkaJS
 * (`idempotent: true`) and kcat (`enable.idempotence=true`) send the same batch again on a new
 * connection; the broker answers it with the original offset and stores it once.
 */
describe('Kafka idempotent producers whose answer is lost', () => {
  let cluster: TestCluster;
  let proxy: AnswerLosingProxy;
  let bootstrap: string;

  before(async () => {
    const proxyPort = await freePort();
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, kafka: true, extra: ['--kafka-advertised', `127.0.0.1:${proxyPort}`] });
    await cluster.waitForLeader();
    proxy = new AnswerLosingProxy([...cluster.kafkaPorts.values()][0]!);
    await proxy.listen(proxyPort);
    bootstrap = `127.0.0.1:${proxyPort}`;
  });
  after(async () => {
    proxy?.close();
    await cluster?.stop();
  });

  const stored = async (topic: string): Promise<{ payload: unknown; headers: Record<string, string> }[]> =>
    (await get(cluster.urls()[0]!, `/consume?topic=${topic}&partition=0&offset=0&max=1000`)).body.records;

  test('KafkaJS: the batch whose answer was lost is sent again, answered, and stored once', async () => {
    const producer = new Kafka({ clientId: 'lost-answer', brokers: [bootstrap], logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1000 } });
    await producer.connect();
    try {
      await producer.send({ topic: 'lost-kjs', acks: -1, messages: [{ value: '{"n":0}', partition: 0 }] });
      proxy.armed = true;
      const [r] = await producer.send({ topic: 'lost-kjs', acks: -1, messages: [1, 2, 3].map((n) => ({ value: `{"n":${n}}`, partition: 0 })) });
      assert.equal(proxy.lost, 1, 'one answer was lost');
      assert.deepEqual([r!.errorCode, r!.baseOffset], [0, '1'], 'the retry is answered with the original offset');
      await producer.send({ topic: 'lost-kjs', acks: -1, messages: [{ value: '{"n":4}', partition: 0 }] });
    } finally {
      await producer.disconnect();
    }
    assert.deepEqual((await stored('lost-kjs')).map((r) => (r.payload as { n: number }).n), [0, 1, 2, 3, 4], 'each record once, in order');
  });

  test('kcat -X enable.idempotence=true: the lost answer is retried and every line stored once', async () => {
    proxy.lost = 0;
    proxy.armed = true;
    const lines = Array.from({ length: 20 }, (_, i) => `{"line":${i}}`).join('\n') + '\n';
    // A second bootstrap address straight to the broker keeps kcat from quitting when its only
    // connection drops ("all brokers down"); produce still goes to the advertised (proxied) address.
    const direct = `127.0.0.1:${[...cluster.kafkaPorts.values()][0]!}`;
    const produced = await kcat(['-b', `${bootstrap},${direct}`, '-P', '-t', 'lost-kcat', '-p', '0', '-X', 'enable.idempotence=true', '-X', 'linger.ms=0', '-X', 'message.timeout.ms=30000'], lines);
    assert.equal(produced.code, 0, produced.stderr);
    assert.equal(proxy.lost, 1, 'one answer was lost');
    const records = await stored('lost-kcat');
    assert.deepEqual(records.map((r) => (r.payload as { line: number }).line), Array.from({ length: 20 }, (_, i) => i), 'every line once, in order');
  });
});
