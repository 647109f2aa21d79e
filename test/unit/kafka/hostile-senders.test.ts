import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { ProduceRecord } from '../../../broker-runtime/src/broker/service.js';
import type { KafkaAuth, KafkaBackend } from '../../../broker-runtime/src/kafka/backend.js';
import { handleFetch, type FetchRequest } from '../../../broker-runtime/src/kafka/apis/fetch.js';
import { handleMetadata } from '../../../broker-runtime/src/kafka/apis/metadata.js';
import { handleListOffsets } from '../../../broker-runtime/src/kafka/apis/list-offsets.js';
import { Reader } from '../../../broker-runtime/src/kafka/protocol/reader.js';
import type { RequestContext } from '../../../broker-runtime/src/kafka/context.js';
import { GroupCoordinator, type CoordinatorHost } from '../../../broker-runtime/src/groups/index.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';
import { createKafkaServer, type KafkaListener } from '../../../broker-runtime/src/kafka/server.js';
import { encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { openPartitionLog } from '../../../broker-runtime/src/log/log-loader.js';
import type { PartitionLog } from '../../../broker-runtime/src/log/types.js';
import { KafkaWire, produceAnswer, produceBody } from '../../../testkit/kafka-wire.js';
import { logOptions, tempDir } from '../log/helpers.js';

/**
 * What a hostile or broken Kafka client can make the listener do (security review): each test is
 * one finding. The connection and the API handlers are the real ones, on a real socket or over a
 * real partition log in a temp folder; only the broker around them is a stand-in that counts.
 */

const PRODUCE = 0;
const SASL_HANDSHAKE = 17;

const produced: ProduceRecord[][] = [];
const created: string[] = [];
let log: PartitionLog;
let cleanup: () => Promise<void>;
const view = { cluster: 'hostile', selfId: 'b1', self: { node_id: 1, host: '127.0.0.1', port: 1 }, leader: { id: 'b1', kafka: { node_id: 1, host: '127.0.0.1', port: 1 } }, epoch: 1, brokers: [{ id: 'b1', kafka: { node_id: 1, host: '127.0.0.1', port: 1 } }], inSync: ['b1'] };

const backend: KafkaBackend = {
  view: () => view,
  topics: () => [{ name: 'big', partitions: 1 }, ...created.map((name) => ({ name, partitions: 1 }))],
  partition: (topic, p) => (topic === 'big' && p === 0 ? log : undefined),
  waitCommitted: () => Promise.resolve(false),
  produce: (_topic, records) => {
    produced.push(records);
    return Promise.resolve(records.map((_, i) => ({ partition: 0, offset: i })));
  },
  nextProducerId: () => Promise.resolve({ epoch: 1, n: 0 }),
  createTopic: (name) => {
    created.push(name);
    return Promise.resolve();
  },
  defaultPartitions: 1,
  maxMessageBytes: 1 << 20,
  groups: new GroupCoordinator({ notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'), log: () => {} } as unknown as CoordinatorHost),
};

/** Every principal may do everything; `authenticate` knows one: app / app-secret. */
const auth: KafkaAuth = {
  authenticate: (name, secret) =>
    name === 'app' && secret === 'app-secret'
      ? Promise.resolve({ name, secretHash: null as never, produce: [] as never, consume: [] as never, admin: true, inBytesPerSecond: null, outBytesPerSecond: null })
      : Promise.reject(new Error('no')),
  current: (principal) => principal,
  check: () => null,
  maySee: () => true,
  charge: () => 0,
};

const listeners: KafkaListener[] = [];
async function listen(withAuth: boolean, authDeadlineMs?: number): Promise<number> {
  const l = createKafkaServer({ backend, auth: withAuth ? auth : null, log: () => {}, ...(authDeadlineMs !== undefined ? { authDeadlineMs } : {}) });
  listeners.push(l);
  await new Promise<void>((r) => l.server.listen(0, '127.0.0.1', () => r()));
  return (l.server.address() as net.AddressInfo).port;
}

const ctx = (apiVersion: number): RequestContext => ({ backend, auth: null, principal: null, apiVersion, clientId: 'hostile', log: () => {}, throttle: () => {} });

before(async () => {
  const t = await tempDir('yak-kafka-hostile-');
  cleanup = t.cleanup;
  log = await openPartitionLog(t.dir, 'big', 0, logOptions());
  // 50 records of 2 KB: 100 KB of committed data.
  const value = JSON.stringify('x'.repeat(2000));
  await log.append(Array.from({ length: 50 }, () => ({ key: null, payload: value, headers: {}, timestamp: Date.now() })), 1);
  log.setHighWatermark(50);
});
after(async () => {
  for (const l of listeners) l.close();
  await log.close();
  await cleanup();
});

test('before SASL, a frame header announcing more than a SASL exchange needs closes the connection at once (no 8 MiB buffered per stranger)', async () => {
  const port = await listen(true);
  const wire = await KafkaWire.connect(port);
  const head = Buffer.alloc(4);
  head.writeInt32BE(4 << 20); // 4 MiB: under the post-authentication limit, far over any SASL message
  wire.write(head);
  wire.write(Buffer.alloc(1024)); // and it starts sending
  assert.equal(await wire.closedWithin(5000), true, 'an unauthenticated 4 MiB frame closes the connection');
});

test('after SASL the usual request size still applies (the pre-authentication limit is only before)', async () => {
  const port = await listen(true);
  const wire = await KafkaWire.connect(port);
  const hs = await wire.request(SASL_HANDSHAKE, 1, Buffer.from([0, 5, ...Buffer.from('PLAIN')]));
  assert.equal(hs.int16(), 0);
  const token = Buffer.from('\0app\0app-secret');
  const body = Buffer.alloc(4 + token.length);
  body.writeInt32BE(token.length);
  token.copy(body, 4);
  const authAnswer = await wire.request(36, 0, body);
  assert.equal(authAnswer.int16(), 0, 'authenticated');
  const value = Buffer.from(JSON.stringify('y'.repeat(200_000)));
  const answer = await wire.request(PRODUCE, 3, produceBody('after-auth', 0, encodeBatch([{ offset: 0, timestamp: Date.now(), key: null, value, headers: [] }], 0).toBuffer()));
  assert.equal(produceAnswer(answer).error, 0, 'a 200 KB produce after SASL is served');
  wire.close();
});

test('a record timestamped far in the future is refused INVALID_TIMESTAMP (32) and nothing is produced (it would pin time retention of its segment and every later one)', async () => {
  const port = await listen(false);
  const wire = await KafkaWire.connect(port);
  const before = produced.length;
  const future = Date.now() + 365 * 24 * 3600_000;
  const batch = encodeBatch([{ offset: 0, timestamp: future, key: null, value: Buffer.from('1'), headers: [] }], 0).toBuffer();
  const answer = produceAnswer(await wire.request(PRODUCE, 3, produceBody('future', 0, batch)));
  assert.equal(answer.error, 32);
  assert.equal(produced.length, before, 'nothing produced');
  // A clock a few minutes ahead is still fine.
  const skewed = encodeBatch([{ offset: 0, timestamp: Date.now() + 5 * 60_000, key: null, value: Buffer.from('2'), headers: [] }], 0).toBuffer();
  assert.equal(produceAnswer(await wire.request(PRODUCE, 3, produceBody('future', 0, skewed))).error, 0);
  wire.close();
});

test('a Fetch naming the same partition 500 times with max_bytes 0 answers its records once, not 500 times (no answer amplification)', async () => {
  const req: FetchRequest = {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 0,
    topics: [{ name: 'big', partitions: Array.from({ length: 500 }, () => ({ index: 0, offset: 0, maxBytes: 0x7fffffff })) }],
  };
  const answer = await handleFetch(req, ctx(4));
  assert.ok(answer.length < 400_000, `the answer is ${answer.length} bytes for 100 KB of data`);
});

test('a Fetch with max_bytes -1 is served up to the broker cap (not refused, not unlimited)', async () => {
  const req: FetchRequest = { maxWaitMs: 0, minBytes: 0, maxBytes: -1, topics: [{ name: 'big', partitions: [{ index: 0, offset: 0, maxBytes: 0x7fffffff }] }] };
  const answer = await handleFetch(req, ctx(4));
  assert.ok(answer.length > 100_000, 'the one partition is answered in full');
});

test('a Metadata request naming 5,000 unknown topics does not create 5,000 topics at once', async () => {
  const names = Array.from({ length: 5000 }, (_, i) => `spray-${i}`);
  await handleMetadata({ topics: names, allowAutoCreate: true }, ctx(4));
  assert.ok(created.filter((n) => n.startsWith('spray-')).length <= 100, `created ${created.length} topics from one request`);
});

test('an HTTP request sent to the Kafka port (a web page, DNS rebinding) is closed at its first four bytes, read as a frame size over a billion', async () => {
  const port = await listen(false);
  for (const method of ['GET', 'POST', 'PUT', 'OPTIONS', 'HEAD', 'DELETE', 'PATCH']) {
    const wire = await KafkaWire.connect(port);
    wire.write(Buffer.from(`${method} / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://evil.example\r\n\r\n`));
    assert.equal(await wire.closedWithin(5000), true, method);
  }
  assert.equal(produced.filter((r) => r.length === 0).length, 0);
});

test('a connection that does not authenticate within the deadline is closed (strangers cannot hold connections open with ApiVersions forever)', async () => {
  const port = await listen(true, 300);
  const idle = await KafkaWire.connect(port);
  const versions = await idle.request(18, 0, Buffer.alloc(0));
  assert.equal(versions.int16(), 0, 'ApiVersions is answered before SASL');
  assert.equal(await idle.closedWithin(10_000), true, 'closed after the deadline');
  // One that authenticates in time stays open past it.
  const ok = await KafkaWire.connect(port);
  await ok.request(SASL_HANDSHAKE, 1, Buffer.from([0, 5, ...Buffer.from('PLAIN')]));
  const token = Buffer.from('\0app\0app-secret');
  const body = Buffer.alloc(4 + token.length);
  body.writeInt32BE(token.length);
  token.copy(body, 4);
  assert.equal((await ok.request(36, 0, body)).int16(), 0);
  assert.equal(await ok.closedWithin(1000), false, 'an authenticated connection is kept');
  ok.close();
});

test('a ListOffsets naming one partition 5,000 times (each a timestamp search reading up to 4 MiB, all at once) answers it once and the repeats INVALID_REQUEST (42), as Kafka does', async () => {
  const answer = await handleListOffsets({ topics: [{ name: 'big', partitions: Array.from({ length: 5000 }, () => ({ index: 0, timestamp: 1 })) }] }, ctx(1));
  const r = new Reader(answer.toBuffer());
  const errors = r.array((r) => { r.string(); return r.array((r) => { r.int32(); const e = r.int16(); r.int64(); r.int64(); return e; }); })[0]!;
  assert.equal(errors[0], 0);
  assert.equal(errors.length, 5000);
  assert.ok(errors.slice(1).every((e) => e === 42), `repeats answered ${[...new Set(errors.slice(1))]}`);
});

test('SASL handshake + authenticate pairs pipelined on one connection get one password check, then the connection closes (v1 and the v0 bare-token flow)', async () => {
  // A slow check, as a real scrypt one is: every pair arrives while the first is still pending.
  let checks = 0;
  const slow: KafkaAuth = {
    ...auth,
    authenticate: () => {
      checks++;
      return new Promise((_, reject) => setTimeout(() => reject(new Error('no')), 100));
    },
  };
  const l = createKafkaServer({ backend, auth: slow, log: () => {} });
  listeners.push(l);
  await new Promise<void>((r) => l.server.listen(0, '127.0.0.1', () => r()));
  const port = (l.server.address() as net.AddressInfo).port;
  const sized = (b: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeInt32BE(b.length);
    return Buffer.concat([head, b]);
  };
  const plain = Buffer.from([0, 5, ...Buffer.from('PLAIN')]);
  const guess = (n: number) => Buffer.from(`\0app\0guess-${n}`);

  const v1 = await KafkaWire.connect(port);
  const pairs: Buffer[] = [];
  for (let n = 0; n < 20; n++) pairs.push(v1.frame(SASL_HANDSHAKE, 1, plain), v1.frame(36, 1, sized(guess(n))));
  v1.write(Buffer.concat(pairs));
  assert.equal(await v1.closedWithin(10_000), true, 'the connection is closed');
  assert.equal(checks, 1, 'one password checked, not 20');

  // v0: the bare token must follow the handshake's answer, so the client waits for each answer
  // while the checks before are pending.
  checks = 0;
  const v0 = await KafkaWire.connect(port);
  let rounds = 0;
  try {
    for (let n = 0; n < 5; n++) {
      assert.equal((await v0.request(SASL_HANDSHAKE, 0, plain)).int16(), 0);
      rounds++;
      v0.write(sized(guess(n)));
    }
  } catch (err) {
    assert.match((err as Error).message, /connection closed/);
  }
  assert.equal(await v0.closedWithin(10_000), true, 'the connection is closed');
  assert.equal(rounds, 1, 'no second handshake while the first token is checked');
  assert.equal(checks, 1, 'one password checked (bare tokens)');
});

test('after a failed SaslAuthenticate the connection is closed, after the answer (SASL_AUTHENTICATION_FAILED) is sent', async () => {
  const port = await listen(true);
  const wire = await KafkaWire.connect(port);
  assert.equal((await wire.request(SASL_HANDSHAKE, 1, Buffer.from([0, 5, ...Buffer.from('PLAIN')]))).int16(), 0);
  const token = Buffer.from('\0app\0wrong');
  const body = Buffer.alloc(4 + token.length);
  body.writeInt32BE(token.length);
  token.copy(body, 4);
  assert.equal((await wire.request(36, 1, body)).int16(), 58, 'SASL_AUTHENTICATION_FAILED');
  assert.equal(await wire.closedWithin(5000), true);
});
