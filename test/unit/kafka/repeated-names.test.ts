import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCoordinator } from '../../../broker-runtime/src/groups/index.js';
import { idleCoordinatorHost } from '../../helpers/idle-coordinator-host.js';
import { handleJoinGroup } from '../../../broker-runtime/src/kafka/apis/groups/membership.js';
import { handleDescribeGroups } from '../../../broker-runtime/src/kafka/apis/groups/describe.js';
import { handleOffsetFetch } from '../../../broker-runtime/src/kafka/apis/groups/offsets.js';
import { handleMetadata } from '../../../broker-runtime/src/kafka/apis/metadata.js';
import type { KafkaBackend } from '../../../broker-runtime/src/kafka/backend.js';
import type { RequestContext } from '../../../broker-runtime/src/kafka/context.js';
import { Reader } from '../../../broker-runtime/src/kafka/protocol/reader.js';

/**
 * A name repeated in one request is answered once (security review; Fetch and ListOffsets were
 * fixed so before). Metadata listed every partition of a topic once per time the request named it,
 * and DescribeGroups every member's metadata once per time it named the group: 3 bytes of request
 * (a one-letter name) bought a whole topic's or group's description, so one 8 MiB request could
 * make the broker build an answer of gigabytes (a group holds up to 16 MiB of member metadata).
 * OffsetFetch repeated a committed offset's metadata (up to 4 KB) per time a partition was named.
 */
const kafka = (node_id: number) => ({ node_id, host: '127.0.0.1', port: 9092 + node_id });
const view = { cluster: 'c', selfId: 'b1', self: kafka(1), leader: { id: 'b1', kafka: kafka(1) }, epoch: 1, brokers: [{ id: 'b1', kafka: kafka(1) }, { id: 'b2', kafka: kafka(2) }, { id: 'b3', kafka: kafka(3) }], inSync: ['b1', 'b2', 'b3'] };
const host = idleCoordinatorHost();

test('Metadata naming one topic 20,000 times answers it once', async () => {
  const backend = { view: () => view, topics: () => [{ name: 't', partitions: 100 }], defaultPartitions: 1 } as unknown as KafkaBackend;
  const ctx: RequestContext = { backend, auth: null, principal: null, apiVersion: 1, clientId: 'c', log: () => {}, throttle: () => {} };
  const answer = (await handleMetadata({ topics: Array.from({ length: 20_000 }, () => 't'), allowAutoCreate: false }, ctx)).toBuffer();
  assert.ok(answer.length < 20_000, `an answer of ${answer.length} bytes for a 60 KB request`);
  const r = new Reader(answer);
  r.array((r) => (r.int32(), r.string(), r.int32(), r.nullableString()));
  r.int32(); // controller
  const names = r.array((r) => {
    r.int16();
    const name = r.string();
    r.boolean();
    r.array((r) => (r.int16(), r.int32(), r.int32(), r.array((r) => r.int32()), r.array((r) => r.int32())));
    return name;
  });
  assert.deepEqual(names, ['t']);
});

test('DescribeGroups naming one group 2,000 times answers it once', async () => {
  const groups = new GroupCoordinator(host, { tickMs: 0 });
  groups.activate();
  while (!groups.isActive()) await new Promise((r) => setImmediate(r));
  const backend = { groups } as unknown as KafkaBackend;
  const ctx: RequestContext = { backend, auth: null, principal: null, apiVersion: 1, clientId: 'c', log: () => {}, throttle: () => {} };
  // One member with 60 KB of subscription metadata.
  await handleJoinGroup({ group: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 100, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(60_000) }] }, { ...ctx, apiVersion: 2 });
  const answer = (await handleDescribeGroups({ groups: Array.from({ length: 2_000 }, () => 'g') }, ctx)).toBuffer();
  assert.ok(answer.length < 100_000, `an answer of ${answer.length} bytes for a 6 KB request`);
  const r = new Reader(answer);
  r.int32();
  assert.equal(r.int32(), 1, 'one group described');
});

test('OffsetFetch naming one partition 5,000 times answers it once', async () => {
  const groups = new GroupCoordinator({ ...host, highWatermark: () => 100 }, { tickMs: 0 });
  groups.activate();
  while (!groups.isActive()) await new Promise((r) => setImmediate(r));
  await groups.commit({ group: 'g', memberId: '', generation: -1, offsets: [{ topic: 't', partition: 0, offset: 5, metadata: 'm'.repeat(4000) }] });
  const backend = { groups } as unknown as KafkaBackend;
  const ctx: RequestContext = { backend, auth: null, principal: null, apiVersion: 1, clientId: 'c', log: () => {}, throttle: () => {} };
  const answer = (await handleOffsetFetch({ group: 'g', topics: [{ name: 't', partitions: Array.from({ length: 5_000 }, () => 0) }, { name: 't', partitions: [0] }] }, ctx)).toBuffer();
  assert.ok(answer.length < 10_000, `an answer of ${answer.length} bytes for a 20 KB request`);
  const r = new Reader(answer);
  const rows = r.array((r) => ({ name: r.string(), partitions: r.array((r) => ({ index: r.int32(), offset: Number(r.int64()), metadata: r.nullableString(), error: r.int16() })) }));
  assert.deepEqual(rows.map((t) => [t.name, t.partitions.map((p) => [p.index, p.offset])]), [['t', [[0, 5]]]]);
});
