import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { KafkaBackend } from '../../../broker-runtime/src/kafka/backend.js';
import { GroupCoordinator, type CoordinatorHost } from '../../../broker-runtime/src/groups/index.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';
import { createKafkaServer, type KafkaListener } from '../../../broker-runtime/src/kafka/server.js';
import { encodeBatch } from '../../../broker-runtime/src/kafka/protocol/record-batch.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import { KafkaWire, produceBody } from '../../../testkit/kafka-wire.js';

/**
 * Security review: what one connection can make the broker hold at once. Requests are pipelined
 * (64 in the works), but not 64 × the largest request: past a byte budget (--max-message-bytes
 * based) the connection is not read until answers go out; and at most a few Fetches (each up to
 * 16 MiB of answer) are worked on at once. The backend is a stand-in whose produce and fetch wait
 * never end, so what reached it is what the connection holds.
 */
const listeners: KafkaListener[] = [];
after(() => listeners.forEach((l) => l.close()));

async function start(backend: KafkaBackend): Promise<number> {
  const l = createKafkaServer({ backend, auth: null, log: () => {} });
  listeners.push(l);
  await new Promise<void>((r) => l.server.listen(0, '127.0.0.1', () => r()));
  return (l.server.address() as net.AddressInfo).port;
}

const view = { cluster: 'x', selfId: 'b1', self: { node_id: 1, host: '127.0.0.1', port: 1 }, leader: { id: 'b1', kafka: { node_id: 1, host: '127.0.0.1', port: 1 } }, epoch: 1, brokers: [{ id: 'b1', kafka: { node_id: 1, host: '127.0.0.1', port: 1 } }], inSync: ['b1'] };
const never = <T>() => new Promise<T>(() => {});

/** Waits until `count()` stops growing for a while (the socket paused or everything arrived). */
async function settled(count: () => number): Promise<number> {
  let last = -1;
  let still = 0;
  while (still < 10) {
    await new Promise((r) => setTimeout(r, 100));
    if (count() === last) still++;
    else (still = 0), (last = count());
  }
  return last;
}

test('64 pipelined 900 KB produces that do not finish: only about a request budget of them is held, not 64 (57 MB)', async () => {
  let produces = 0;
  const backend: KafkaBackend = {
    view: () => view, topics: () => [], partition: () => undefined, waitCommitted: () => never(), createTopic: () => never(), nextProducerId: () => never(),
    produce: () => (produces++, never()),
    defaultPartitions: 1, maxMessageBytes: 1 << 20,
  groups: new GroupCoordinator({ notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'), log: () => {} } as unknown as CoordinatorHost),
  };
  const wire = await KafkaWire.connect(await start(backend));
  const value = Buffer.from(JSON.stringify('z'.repeat(900_000)));
  const batch = encodeBatch([{ offset: 0, timestamp: Date.now(), key: null, value, headers: [] }], 0).toBuffer();
  for (let i = 0; i < 64; i++) wire.write(wire.frame(0, 3, produceBody('held', 0, batch)));
  const held = await settled(() => produces);
  assert.ok(held >= 1, 'the first ones are worked on');
  assert.ok(held <= 12, `${held} produces of 900 KB held by one connection`);
  wire.close();
});

test('pipelined Fetches that long-poll: at most a few are worked on at once (each may answer 16 MiB)', async () => {
  let fetches = 0;
  const log = { highWatermark: () => 0, logStartOffset: () => 0, logEndOffset: () => 0 };
  const backend: KafkaBackend = {
    view: () => view, topics: () => [{ name: 't', partitions: 1 }], createTopic: () => never(), nextProducerId: () => never(), produce: () => never(),
    partition: () => log as never,
    waitCommitted: () => (fetches++, never()),
    defaultPartitions: 1, maxMessageBytes: 1 << 20,
  groups: new GroupCoordinator({ notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'), log: () => {} } as unknown as CoordinatorHost),
  };
  const wire = await KafkaWire.connect(await start(backend));
  const body = new Writer().int32(-1).int32(30_000).int32(1).int32(1 << 20).int8(1)
    .array(['t'], (w, t) => w.string(t).array([0], (w, p) => w.int32(p).int64(0).int32(1 << 20))).toBuffer();
  for (let i = 0; i < 60; i++) wire.write(wire.frame(1, 4, body));
  const held = await settled(() => fetches);
  assert.ok(held >= 1);
  assert.ok(held <= 4, `${held} fetches worked on at once by one connection`);
  wire.close();
});

test('64 pipelined gzip produces of ~40 KB that each inflate to 40 MB: what is held counts the inflated bytes (not 64 × 40 MB = 2.5 GB)', async () => {
  const { gzipSync } = await import('node:zlib');
  const { BATCH_OVERHEAD } = await import('../../../broker-runtime/src/kafka/protocol/record-batch.js');
  const { crc32c } = await import('../../../broker-runtime/src/kafka/protocol/crc32c.js');
  let produces = 0;
  const backend: KafkaBackend = {
    view: () => view, topics: () => [], partition: () => undefined, waitCommitted: () => never(), createTopic: () => never(), nextProducerId: () => never(),
    produce: () => (produces++, never()),
    defaultPartitions: 1, maxMessageBytes: 1 << 20,
    groups: new GroupCoordinator({ notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'), log: () => {} } as unknown as CoordinatorHost),
  };
  const wire = await KafkaWire.connect(await start(backend));
  // One record whose value is 40 MB of one letter: a few tens of KB gzipped.
  const plain = encodeBatch([{ offset: 0, timestamp: Date.now(), key: null, value: Buffer.alloc(40_000_000, 0x61), headers: [] }], 0).toBuffer();
  const bomb = Buffer.concat([plain.subarray(0, BATCH_OVERHEAD), gzipSync(plain.subarray(BATCH_OVERHEAD), { level: 9 })]);
  bomb.writeInt32BE(bomb.length - 12, 8);
  bomb.writeInt16BE(1, 21);
  bomb.writeUInt32BE(crc32c(bomb.subarray(21)), 17);
  assert.ok(bomb.length < 100_000, `${bomb.length} bytes compressed`);
  for (let i = 0; i < 64; i++) wire.write(wire.frame(0, 3, produceBody('bombs', 0, bomb)));
  const held = await settled(() => produces);
  assert.ok(held >= 1, 'the first is worked on');
  assert.ok(held <= 2, `${held} inflated produces of 40 MB held by one connection`);
  wire.close();
});
