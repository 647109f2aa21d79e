import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCoordinator, type CoordinatorHost } from '../../../broker-runtime/src/groups/coordinator.js';
import type { StoredRecord } from '../../../broker-runtime/src/groups/offsets-log.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';
import type { KafkaBackend } from '../../../broker-runtime/src/kafka/backend.js';
import { decodeOffsetCommit, handleOffsetCommit } from '../../../broker-runtime/src/kafka/apis/groups/offsets.js';
import { Reader } from '../../../broker-runtime/src/kafka/protocol/reader.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import type { RequestContext } from '../../../broker-runtime/src/kafka/context.js';

/**
 * OffsetCommit over Kafka had no bound on its partitions, where POST /groups/{g}/commit takes at
 * most 10,000: one 8 MiB request naming one partition 440,000 times (18 bytes each) was appended
 * to __consumer_offsets as 440,000 records (~60 MB, replicated to every broker and read back by
 * every new leader's group rebuild). The coordinator now refuses more than 10,000 offsets per
 * commit, whatever the transport, and writes a partition named twice once.
 */
function coordinatorWorld() {
  const log: StoredRecord[] = [];
  const host: CoordinatorHost = {
    now: () => 1_000_000,
    append: async (records) => {
      log.push(...records);
    },
    readOffsetsTopic: async function* () {
      for (const r of [...log]) yield r.payload;
    },
    partitionCount: (t) => (t === 't' ? 1 : undefined),
    highWatermark: () => 1_000_000,
    logStartOffset: () => 0,
    offsetForTimestamp: async () => 0,
    notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'),
    log: () => {},
  };
  return { log, host };
}

async function activeCoordinator(host: CoordinatorHost): Promise<GroupCoordinator> {
  const c = new GroupCoordinator(host, { tickMs: 0 });
  c.activate();
  while (!c.isActive()) await new Promise((r) => setImmediate(r));
  return c;
}

/** OffsetCommit v7 from outside the group (generation -1, no member): `count` entries of partition t/0. */
function offsetCommitV7(count: number): Buffer {
  const w = new Writer(64 + count * 18);
  w.string('g').int32(-1).string('').nullableString(null);
  w.int32(1).string('t').int32(count);
  for (let i = 0; i < count; i++) w.int32(0).int64(i + 1).int32(-1).nullableString(null);
  return w.toBuffer();
}

test('one Kafka OffsetCommit naming a partition 440,000 times is refused whole and writes nothing', async () => {
  const { log, host } = coordinatorWorld();
  const groups = await activeCoordinator(host);
  const backend = { groups, partition: (t: string, p: number) => (t === 't' && p === 0 ? {} : undefined) } as unknown as KafkaBackend;
  const ctx: RequestContext = { backend, auth: null, principal: null, apiVersion: 7, clientId: 'hostile', log: () => {}, throttle: () => {} };
  const body = offsetCommitV7(440_000);
  assert.ok(body.length < 8 << 20, `fits in one request (${body.length} bytes)`);
  const answer = new Reader((await handleOffsetCommit(decodeOffsetCommit(new Reader(body), 7), ctx)).toBuffer());
  answer.int32(); // throttle
  const codes = new Set<number>();
  answer.array((r) => {
    r.string();
    r.array((r) => {
      r.int32();
      codes.add(r.int16());
    });
  });
  assert.deepEqual([...codes], [42], 'INVALID_REQUEST for every partition');
  assert.equal(log.length, 0, 'nothing written to the offsets topic');
  assert.deepEqual(groups.fetchOffsets('g'), []);
});

test('a partition named several times in one commit is written once, at the highest offset', async () => {
  const { log, host } = coordinatorWorld();
  const groups = await activeCoordinator(host);
  const answers = await groups.commit({ group: 'g', memberId: '', generation: -1, offsets: [5, 9, 7].map((offset) => ({ topic: 't', partition: 0, offset })) });
  assert.equal(log.length, 1, 'one record');
  assert.deepEqual(answers.map((a) => a.committed_offset), [9, 9, 9]);
  assert.deepEqual(groups.fetchOffsets('g').map((o) => o.offset), [9]);
  await assert.rejects(groups.commit({ group: 'g', memberId: '', generation: -1, offsets: Array.from({ length: 10_001 }, (_, i) => ({ topic: 't', partition: 0, offset: i })) }), /at most 10000/);
  assert.equal(log.length, 1);
});

test('a commit may not create a group whose name is longer than a join allows (255 characters)', async () => {
  const { log, host } = coordinatorWorld();
  const groups = await activeCoordinator(host);
  // 10,000 groups of 32 KB names would hold 320 MB of names, repeated in every offset record.
  await assert.rejects(groups.commit({ group: 'g'.repeat(32_000), memberId: '', generation: -1, offsets: [{ topic: 't', partition: 0, offset: 1 }] }), /1 to 255 characters/);
  await assert.rejects(groups.commit({ group: '', memberId: '', generation: -1, offsets: [{ topic: 't', partition: 0, offset: 1 }] }), /1 to 255 characters/);
  assert.equal(log.length, 0);
  assert.deepEqual(groups.list(), []);
});
