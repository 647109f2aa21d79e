import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get, post } from '../../../testkit/http.js';
import { gzipSync } from 'node:zlib';
import { crc32c } from '../../../broker-runtime/src/kafka/protocol/crc32c.js';
import { BATCH_OVERHEAD, encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { KafkaWire, fetchAnswer, fetchBody, produceAnswer, produceBody } from '../../../testkit/kafka-wire.js';
import { xerialSnappyCompress } from '../../../broker-runtime/src/kafka/protocol/snappy.js';
import { kcat } from '../../helpers/kcat.js';

/**
 * Compressed Kafka batches from real clients: kcat (librdkafka 2.0) with gzip, snappy and lz4
 * (Kafka's LZ4 frames) and KafkaJS 2.2.4 with GZIP and Snappy (xerial-framed, as kafkajs-snappy and
 * Java clients send it) are decoded and stored (with the producer's codec; snappy uncompressed), and come
 * back byte for byte to Kafka consumers and as JSON to REST; zstd is refused with
 * UNSUPPORTED_COMPRESSION_TYPE and nothing is stored. Fetch answers carry a stored compressed batch
 * as a compressed Kafka batch of the same codec (lz4 as an LZ4 frame), which kcat and KafkaJS read.
 */
const PRODUCE = 0;
const FETCH = 1;

/** The codec bits of every batch in a Fetch answer's records, in order. */
function codecsOf(records: Buffer): number[] {
  const out: number[] = [];
  for (let pos = 0; pos + 12 <= records.length; pos += 12 + records.readInt32BE(pos + 8)) out.push(records.readInt16BE(pos + 21) & 0x07);
  return out;
}

describe('Kafka compressed batches against a YAK cluster', () => {
  let cluster: TestCluster;
  let bootstrap: string;
  // Asked each time: on a loaded machine a lease can lapse and move between tests.
  const leaderUrl = async (): Promise<string> => (await cluster.waitForLeader()).broker.url;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 2, partitions: 1, kafka: true });
    bootstrap = cluster.bootstrap().join(',');
    await cluster.waitForLeader();
  });
  after(async () => {
    await cluster?.stop();
  });

  // Lines that compress well and lines that do not, some not UTF-8, separated by \x01 (kcat -D).
  const values = Array.from({ length: 300 }, (_, i) =>
    i % 3 === 0 ? Buffer.from(JSON.stringify({ n: i, text: 'repeated text '.repeat(5) })) : i % 3 === 1 ? Buffer.from(`plain line ${i}`) : Buffer.from([0xff, 0x40 | (i & 0x3f), 0x00, 0x80, 0x0a]),
  );
  const input = Buffer.concat(values.flatMap((v) => [v, Buffer.from([0x01])]));
  const expected = Buffer.concat(values.flatMap((v) => [v, Buffer.from([0x02])]));

  for (const codec of ['gzip', 'snappy', 'lz4']) {
    test(`kcat -z ${codec}: every value, key and header comes back byte for byte, REST reads them too`, async () => {
      const topic = `z-${codec}`;
      // One big linger so librdkafka sends few large compressed batches.
      const produced = await kcat(['-b', bootstrap, '-P', '-t', topic, '-p', '0', '-z', codec, '-D', '\x01', '-H', 'c=' + codec, '-X', 'linger.ms=50', '-d', 'msg'], input);
      assert.equal(produced.code, 0, produced.stderr);
      // librdkafka before 2.10 sends batches uncompressed unless ApiVersions lists Produce v0 (KAFKA-18659).
      assert.match(produced.stderr, new RegExp(`Produce MessageSet with \\d+ message\\(s\\) .*, ${codec}\\)`), 'the batches went compressed');
      assert.doesNotMatch(produced.stderr, /does not support compression/);
      const consumed = await kcat(['-b', bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%s\x02']);
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout, expected);
      const headers = await kcat(['-b', bootstrap, '-C', '-t', topic, '-p', '0', '-o', '-1', '-e', '-q', '-f', '%o %h\n']);
      assert.equal(headers.stdout.toString(), `299 c=${codec}\n`);
      const rest = await get(await leaderUrl(), `/consume?topic=${topic}&partition=0&offset=0&max=3`);
      assert.equal(rest.status, 200);
      assert.deepEqual(rest.body.records.map((r: { payload: unknown }) => r.payload), [{ n: 0, text: 'repeated text '.repeat(5) }, 'plain line 1', values[2]!.toString('base64')]);
    });
  }

  for (const codec of ['gzip', 'lz4'] as const) {
    test(`a batch stored ${codec} (REST, compression.type ${codec}) reaches Kafka consumers as a ${codec} batch: raw wire, kcat${codec === 'gzip' ? ' and KafkaJS' : ''} read it`, async () => {
      const topic = `zf-${codec}`;
      const created = await post(await leaderUrl(), '/topics', { name: topic, partitions: 1, config: { 'compression.type': codec } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const records = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, partition: 0, payload: { n: i, text: 'same words again '.repeat(3) }, headers: { i: String(i) } }));
      const produced = await post(await leaderUrl(), '/produce/batch', { topic, records });
      assert.equal(produced.status, 200, JSON.stringify(produced.body));
      const { broker } = await cluster.waitForLeader();
      const wire = await KafkaWire.connect(cluster.kafkaPorts.get(broker.id)!);
      try {
        const answer = fetchAnswer(await wire.request(FETCH, 4, fetchBody(topic, 0, 0, 0)));
        assert.equal(answer.error, 0);
        assert.deepEqual(codecsOf(answer.records), [codec === 'gzip' ? 1 : 3]);
        const plainSize = records.reduce((s, r) => s + JSON.stringify(r.payload).length, 0);
        assert.ok(answer.records.length < plainSize / 2, `${answer.records.length} bytes for ${plainSize} bytes of values`);
        // From inside the batch: the whole batch again (the consumer skips what it did not ask for).
        const inside = fetchAnswer(await wire.request(FETCH, 4, fetchBody(topic, 0, 40, 0)));
        assert.equal(inside.records.readInt32BE(4), 0, 'base offset of the batch');
      } finally {
        wire.close();
      }
      const want = records.map((r) => `${r.key}|${JSON.stringify(r.payload)}|i=${r.headers.i}\n`).join('');
      const consumed = await kcat(['-b', bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%k|%s|%h\n']);
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.equal(consumed.stdout.toString(), want);
      const fromInside = await kcat(['-b', bootstrap, '-C', '-t', topic, '-p', '0', '-o', '95', '-e', '-q', '-f', '%o\n']);
      assert.equal(fromInside.stdout.toString(), '95\n96\n97\n98\n99\n');
      if (codec !== 'gzip') return; // KafkaJS 2.2.4 has gzip only (lz4 needs a codec package, as against Kafka)
      const consumer = new Kafka({ clientId: 'yak-gzip-read', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING }).consumer({ groupId: 'gzip-readers' });
      await consumer.connect();
      const seen: string[] = [];
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        const done = new Promise<void>((resolve) => {
          void consumer.run({
            eachMessage: async ({ message }) => {
              seen.push(`${message.key!.toString()}|${message.value!.toString()}|i=${message.headers!.i!.toString()}\n`);
              if (seen.length === records.length) resolve();
            },
          });
        });
        await done;
      } finally {
        await consumer.disconnect();
      }
      assert.equal(seen.join(''), want);
    });
  }

  test('KafkaJS with CompressionTypes.GZIP: keys, values and headers come back byte for byte', async () => {
    const producer = new Kafka({ clientId: 'yak-gzip', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 10 } }).producer();
    await producer.connect();
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `key-${i}`, value: i % 2 ? `{"i":${i}}` : Buffer.from([0xc3, 0x28, i]), headers: { n: String(i) }, partition: 0 }));
    try {
      const answers = await producer.send({ topic: 'z-kafkajs', acks: -1, compression: CompressionTypes.GZIP, messages });
      assert.ok(answers.every((a) => a.errorCode === 0));
    } finally {
      await producer.disconnect();
    }
    const consumed = await kcat(['-b', bootstrap, '-C', '-t', 'z-kafkajs', '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%k|%s|%h\x02']);
    const want = Buffer.concat(messages.flatMap((m) => [Buffer.from(`${m.key}|`), Buffer.from(m.value), Buffer.from(`|n=${m.headers.n}\x02`)]));
    assert.deepEqual(consumed.stdout, want);
  });

  test('KafkaJS with CompressionTypes.Snappy (a xerial-framed codec, as kafkajs-snappy): values come back byte for byte', async () => {
    // KafkaJS ships no snappy codec: one is registered, as kafkajs-snappy does (kafkajs is CommonJS: its table is reached through require).
    const codecs = (createRequire(import.meta.url)('kafkajs') as { CompressionCodecs: Record<number, unknown> }).CompressionCodecs;
    codecs[CompressionTypes.Snappy] = () => ({
      compress: async (encoder: { buffer: Buffer }) => xerialSnappyCompress(encoder.buffer, 1024),
      decompress: async () => {
        throw new Error('not used: YAK answers Fetch uncompressed');
      },
    });
    const producer = new Kafka({ clientId: 'yak-snappy', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 10 } }).producer();
    await producer.connect();
    const messages = Array.from({ length: 200 }, (_, i) => ({ key: `key-${i}`, value: `{"i":${i},"text":"${'snappy '.repeat(i % 20)}"}`, partition: 0 }));
    try {
      const answers = await producer.send({ topic: 'z-kafkajs-snappy', acks: -1, compression: CompressionTypes.Snappy, messages });
      assert.ok(answers.every((a) => a.errorCode === 0));
    } finally {
      await producer.disconnect();
      delete codecs[CompressionTypes.Snappy];
    }
    const consumed = await kcat(['-b', bootstrap, '-C', '-t', 'z-kafkajs-snappy', '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%k|%s\n']);
    assert.equal(consumed.stdout.toString(), messages.map((m) => `${m.key}|${m.value}\n`).join(''));
  });

  for (const codec of ['zstd']) {
    test(`kcat -z ${codec} is refused with UNSUPPORTED_COMPRESSION_TYPE and nothing is stored`, async () => {
      const topic = `z-${codec}`;
      // One compressible message: librdkafka sends a batch that compression does not shrink uncompressed.
      const produced = await kcat(['-b', bootstrap, '-P', '-t', topic, '-p', '0', '-z', codec, '-X', 'message.timeout.ms=5000'], `${'the same words again '.repeat(200)}\n`);
      assert.notEqual(produced.code, 0);
      assert.match(produced.stderr, /[Uu]nsupported compression/);
      const consumed = await kcat(['-b', bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q']);
      assert.equal(consumed.stdout.toString(), '');
    });
  }

  test('raw wire: zstd gets 76, snappy that does not decompress 2, a gzip bomb MESSAGE_TOO_LARGE; the same connection then produces, nothing else is stored', async () => {
    const { broker } = await cluster.waitForLeader();
    let wire = await KafkaWire.connect(cluster.kafkaPorts.get(broker.id)!);
    const records = [{ offset: 0, timestamp: Date.now(), key: null, value: Buffer.from('"x"'), headers: [] }];
    const withCodec = (id: number, body: Buffer) => {
      const plain = encodeBatch(records, 0).toBuffer();
      const out = Buffer.concat([plain.subarray(0, BATCH_OVERHEAD), body]);
      out.writeInt32BE(out.length - 12, 8);
      out.writeInt16BE(id, 21);
      out.writeUInt32BE(crc32c(out.subarray(21)), 17);
      return out;
    };
    const zstd = produceAnswer(await wire.request(PRODUCE, 3, produceBody('z-wire', 0, withCodec(4, Buffer.from('whatever')))));
    assert.equal(zstd.error, 76);
    const snappy = produceAnswer(await wire.request(PRODUCE, 3, produceBody('z-wire', 0, withCodec(2, Buffer.from('whatever')))));
    assert.equal(snappy.error, 2);
    // A snappy block claiming 128 MiB (a 5-byte varint and no data): refused before decompressing.
    const snappyBomb = produceAnswer(await wire.request(PRODUCE, 3, produceBody('z-wire', 0, withCodec(2, Buffer.from([0x80, 0x80, 0x80, 0x40, 0x00])))));
    assert.equal(snappyBomb.error, 10);
    // 128 MiB of zeros in ~128 KiB: inflating stops at the request's 64 MiB budget.
    const bomb = produceAnswer(await wire.request(PRODUCE, 3, produceBody('z-wire', 0, withCodec(1, gzipSync(Buffer.alloc(128 * 1024 * 1024))))));
    assert.equal(bomb.error, 10);
    const goodBody = produceBody('z-wire', 0, withCodec(1, gzipSync(encodeBatch(records, 0).toBuffer().subarray(BATCH_OVERHEAD))));
    let good = produceAnswer(await wire.request(PRODUCE, 3, goodBody));
    if (good.error === 6) {
      // Inflating the bomb holds the event loop; on a loaded machine that can outlast the lease and
      // move the leadership (NOT_LEADER_OR_FOLLOWER): produce again where clients would, the new leader.
      wire.close();
      const { broker: now } = await cluster.waitForLeader();
      wire = await KafkaWire.connect(cluster.kafkaPorts.get(now.id)!);
      good = produceAnswer(await wire.request(PRODUCE, 3, goodBody));
    }
    assert.deepEqual(good, { error: 0, baseOffset: 0 });
    wire.close();
    const rest = await get((await cluster.waitForLeader()).broker.url, '/consume?topic=z-wire&partition=0&offset=0');
    assert.deepEqual(rest.body.records.map((r: { payload: unknown }) => r.payload), ['x']);
  });
});
