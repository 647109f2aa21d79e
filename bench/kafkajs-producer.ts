import net from 'node:net';
import tls from 'node:tls';
import { Kafka, logLevel, type ISocketFactory, type Producer, type SASLOptions } from 'kafkajs';
import { cpuMeter } from './cpu.js';
import type { ConnectionSecurity } from './http-conn.js';
import { payloadText } from './payload.js';
import { runFor } from './rounds.js';

/** Sends in flight at once: 4 batched (as the raw-wire row), 32 one-record sends (as the REST single produce row). */
export const KAFKAJS_BATCH_SENDERS = 4;
export const KAFKAJS_SINGLE_SENDERS = 32;

export interface KafkajsRound {
  rate: number;
  records: number;
  /** CPU of all three brokers per record, µs. */
  brokerCpuUs: number | null;
  /** CPU of this process (KafkaJS itself) per record, µs: it shares the two cores with the brokers. */
  clientCpuUs: number;
}

/**
 * KafkaJS 2.2.4 (a devDependency; the client the anchor figures are for: ~62k records/s one
 * at a time and ~314k batched against Kafka) producing 100-byte JSON values with acks=all into one
 * topic through the whole cluster: what a Node service using the common Kafka client gets.
 * `batch` records per `send`, partitions taken in turn.
 */
export class KafkajsProducer {
  private next = 0;
  private readonly batches: { value: string; partition: number }[][];

  private constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    partitions: number,
    batch: number,
  ) {
    this.batches = Array.from({ length: partitions }, (_, p) => Array.from({ length: batch }, (_, i) => ({ value: payloadText(i), partition: p })));
  }

  static async connect(bootstrap: string[], security: ConnectionSecurity, topic: string, partitions: number, batch: number, noDelay = false): Promise<KafkajsProducer> {
    let sasl: SASLOptions | undefined;
    if (security.token) {
      const [username, ...rest] = security.token.split(':');
      sasl = { mechanism: 'plain', username: username!, password: rest.join(':') };
    }
    const kafka = new Kafka({
      clientId: 'yak-bench',
      brokers: bootstrap,
      logLevel: logLevel.NOTHING,
      ssl: security.ca ? { ca: [security.ca.toString()], rejectUnauthorized: true } : undefined,
      sasl,
      retry: { retries: 5 },
      ...(noDelay ? { socketFactory: noDelaySocketFactory } : {}),
    });
    // Not idempotent, no compression: what the raw-wire row sends too.
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    return new KafkajsProducer(producer, topic, partitions, batch);
  }

  /**
   * Counts, until the returned function is called, what KafkaJS's own instrumentation events say it
   * did: requests per API (with the average answer size) and request timeouts. A broker that made
   * KafkaJS refresh metadata, retry or time out shows here.
   */
  watch(): () => string {
    const apis = new Map<string, { n: number; bytes: number }>();
    let timeouts = 0;
    const offRequest = this.producer.on(this.producer.events.REQUEST, (e) => {
      const a = apis.get(e.payload.apiName) ?? { n: 0, bytes: 0 };
      a.n++;
      a.bytes += e.payload.size;
      apis.set(e.payload.apiName, a);
    });
    const offTimeout = this.producer.on(this.producer.events.REQUEST_TIMEOUT, () => timeouts++);
    return () => {
      offRequest();
      offTimeout();
      return [...[...apis].map(([api, a]) => `${api} ${a.n} (answers ${Math.round(a.bytes / a.n)} B)`), `request timeouts ${timeouts}`].join(', ');
    };
  }

  /** `senders` loops, each awaiting one `send` of `perSend` records (a whole prepared batch, or its first record) at a time. */
  async round(ms: number, pids: (number | undefined)[], senders: number, perSend: number): Promise<KafkajsRound> {
    const cpu = cpuMeter(pids);
    const client = process.cpuUsage();
    let records = 0;
    const elapsed = await runFor(ms, senders, async () => {
      const batch = this.batches[this.next++ % this.batches.length]!;
      await this.producer.send({ topic: this.topic, acks: -1, messages: perSend >= batch.length ? batch : batch.slice(0, perSend) });
      records += Math.min(perSend, batch.length);
    });
    const cpuMs = cpu();
    const used = process.cpuUsage(client);
    return {
      rate: (records * 1000) / elapsed,
      records,
      brokerCpuUs: cpuMs === null ? null : (cpuMs * 1000) / records,
      clientCpuUs: (used.user + used.system) / records,
    };
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/**
 * KafkaJS's own socket factory (kafkajs/src/network/socketFactory.js) plus `setNoDelay(true)`:
 * KafkaJS leaves Nagle's algorithm on, so a small request written while an earlier one is
 * unacknowledged waits for that ACK (up to the peer's delayed-ACK time).
 */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl ? tls.connect({ host, port, ...(!net.isIP(host) ? { servername: host } : {}), ...ssl }, onConnect) : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  socket.setNoDelay(true);
  return socket;
};
