import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import type { ProduceRecord } from '../../../broker-runtime/src/broker/service.js';
import type { KafkaBackend } from '../../../broker-runtime/src/kafka/backend.js';
import { createKafkaServer, type KafkaListener } from '../../../broker-runtime/src/kafka/server.js';
import { GroupCoordinator, type CoordinatorHost } from '../../../broker-runtime/src/groups/index.js';
import { SUPPORTED } from '../../../broker-runtime/src/kafka/protocol/api-keys.js';
import { kafkaCodeOf, KAFKA_ERRORS } from '../../../broker-runtime/src/kafka/protocol/error-codes.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import { KafkaWire } from '../../../testkit/kafka-wire.js';

/**
 * The listener's framing and decoders against random bytes: every frame is answered or the
 * connection is closed — never an exception that escapes, never a record stored. The backend is
 * a stand-in that counts produces (the connection under test is the real one, on a real socket).
 */
let listener: KafkaListener;
let port: number;
const produced: ProduceRecord[][] = [];
const errors: unknown[] = [];

const backend: KafkaBackend = {
  view: () => ({ cluster: 'fuzz', selfId: 'b1', self: { node_id: 1, host: '127.0.0.1', port: 1 }, leader: { id: 'b1', kafka: { node_id: 1, host: '127.0.0.1', port: 1 } }, epoch: 1, brokers: [{ id: 'b1', kafka: { node_id: 1, host: '127.0.0.1', port: 1 } }], inSync: ['b1'] }),
  topics: () => [],
  partition: () => undefined,
  waitCommitted: () => Promise.resolve(false),
  produce: (_topic, records) => {
    produced.push(records);
    return Promise.resolve(records.map((_, i) => ({ partition: 0, offset: i })));
  },
  createTopic: () => Promise.resolve(),
  nextProducerId: () => Promise.resolve({ epoch: 1, n: 0 }),
  // A real coordinator that never leads here: every group request is answered NOT_COORDINATOR.
  groups: new GroupCoordinator({ notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'), log: () => {} } as unknown as CoordinatorHost),
  defaultPartitions: 1,
  maxMessageBytes: 1 << 20,
};

before(async () => {
  process.on('uncaughtException', (e) => errors.push(e));
  listener = createKafkaServer({ backend, auth: null, log: (level, line) => { if (level === 'error') errors.push(line); } });
  await new Promise<void>((r) => listener.server.listen(0, '127.0.0.1', () => r()));
  port = (listener.server.address() as net.AddressInfo).port;
});
after(() => listener.close());

/**
 * Sends `bytes`, then waits until the broker answered something, closed, or stayed silent for
 * `silentAfterMs` (a frame still incomplete). Where silence is a failure the wait is long, so a
 * loaded machine's slow answer is not taken for one.
 */
function exchange(bytes: Buffer, silentAfterMs = 150): Promise<'answered' | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    let settled = false;
    const done = (how: 'answered' | 'closed' | 'silent') => {
      if (settled) return;
      settled = true;
      s.destroy();
      resolve(how);
    };
    s.on('data', () => done('answered'));
    s.on('close', () => done('closed'));
    s.on('error', () => done('closed'));
    setTimeout(() => done('silent'), silentAfterMs);
  });
}

function frame(apiKey: number, version: number, body: Uint8Array): Buffer {
  const head = Buffer.alloc(14);
  head.writeInt32BE(10 + body.length, 0);
  head.writeInt16BE(apiKey, 4);
  head.writeInt16BE(version, 6);
  head.writeInt32BE(7, 8);
  head.writeInt16BE(-1, 12);
  return Buffer.concat([head, body]);
}

test('fuzz: random frames for every served API and version are answered or close the connection; nothing is produced, nothing throws', async () => {
  const served = fc.constantFrom(...SUPPORTED).chain((r) => fc.tuple(fc.constant(r.key), fc.integer({ min: r.min - 1, max: r.max + 1 })));
  const anyKey = fc.tuple(fc.integer({ min: -1, max: 80 }), fc.integer({ min: -1, max: 20 }));
  await fc.assert(
    fc.asyncProperty(fc.oneof(served, anyKey), fc.uint8Array({ maxLength: 300 }), async ([key, version], body) => {
      const how = await exchange(frame(key, version, body), 5_000);
      assert.notEqual(how, 'silent', 'a whole frame gets an answer or a close');
    }),
    { numRuns: 300 },
  );
  assert.equal(produced.length, 0, 'no random frame produced a record');
  assert.deepEqual(errors, []);
});

test('fuzz: random bytes as a frame stream (sizes, cuts) never throw', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
      await exchange(Buffer.from(bytes));
    }),
    { numRuns: 100 },
  );
  assert.equal(produced.length, 0);
  assert.deepEqual(errors, []);
});

test("YAK's errors map to Kafka's codes in one place", () => {
  assert.equal(kafkaCodeOf(YakError.of('NOT_LEADER', 'x')), KAFKA_ERRORS.NOT_LEADER_OR_FOLLOWER);
  assert.equal(kafkaCodeOf(YakError.of('NOT_ENOUGH_REPLICAS', 'x')), KAFKA_ERRORS.NOT_ENOUGH_REPLICAS);
  assert.equal(kafkaCodeOf(YakError.of('TIMEOUT', 'x')), KAFKA_ERRORS.REQUEST_TIMED_OUT);
  assert.equal(kafkaCodeOf(YakError.of('UNAVAILABLE', 'x')), KAFKA_ERRORS.REQUEST_TIMED_OUT);
  assert.equal(kafkaCodeOf(YakError.of('MESSAGE_TOO_LARGE', 'x')), KAFKA_ERRORS.MESSAGE_TOO_LARGE);
  assert.equal(kafkaCodeOf(YakError.of('UNKNOWN_PARTITION', 'x')), KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(kafkaCodeOf(new Error('a bug')), KAFKA_ERRORS.UNKNOWN_SERVER_ERROR);
});

test('ApiVersions advertises exactly the served ranges (v0 and v3 forms), Produce from v0 as Kafka 4 does; a newer version gets UNSUPPORTED_VERSION (35) and the list', async () => {
  const ask = async (version: number, body: Buffer = Buffer.alloc(0)) => {
    const wire = await KafkaWire.connect(port);
    try {
      // v3 uses request header v2: the client id is followed by (empty) tagged fields.
      const r = await wire.request(18, version, version === 3 ? Buffer.concat([Buffer.from([0]), body]) : body);
      return r;
    } finally {
      wire.close();
    }
  };
  const expected = SUPPORTED.map((a) => [a.key, a.advertisedMin ?? a.min, a.max]);
  assert.deepEqual(expected[0], [0, 0, 7], 'Produce 0-7: librdkafka < 2.10 compresses only then (KAFKA-18659)');
  const v0 = await ask(0);
  assert.equal(v0.int16(), 0);
  assert.deepEqual(v0.array((r) => [r.int16(), r.int16(), r.int16()]), expected);
  const v3 = await ask(3, new Writer().compactString('test').compactString('1.0').emptyTaggedFields().toBuffer());
  assert.equal(v3.int16(), 0);
  assert.deepEqual(v3.compactArray((r) => { const a = [r.int16(), r.int16(), r.int16()]; r.skipTaggedFields(); return a; }), expected);
  assert.equal(v3.int32(), 0);
  v3.skipTaggedFields();
  assert.equal(v3.remaining(), 0);
  const v9 = await ask(9);
  assert.equal(v9.int16(), 35);
  assert.deepEqual(v9.array((r) => [r.int16(), r.int16(), r.int16()]), expected);
});

test('a Produce v0-2 request closes the connection although ApiVersions advertises Produce from v0 (only v3+ is served, as in Kafka 4)', async () => {
  const wire = await KafkaWire.connect(port);
  wire.write(wire.frame(0, 2, new Writer().int16(-1).int32(1000).int32(0).toBuffer()));
  assert.equal(await wire.closedWithin(5000), true);
});
