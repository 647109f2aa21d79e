import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCoordinator, type CoordinatorHost } from '../../../broker-runtime/src/groups/coordinator.js';
import type { StoredRecord } from '../../../broker-runtime/src/groups/offsets-log.js';
import { YAK_PROTOCOL_TYPE, decodeAssignment, encodeSubscription } from '../../../broker-runtime/src/groups/rest-protocol.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';

/** A coordinator over an in-memory "offsets topic" and a clock the test moves: no timers, no I/O. */
function world(topics: Record<string, number> = { t: 4 }, hwm = 100) {
  const clock = { now: 1_000_000 };
  const log: StoredRecord[] = [];
  let leading = true;
  const host: CoordinatorHost = {
    now: () => clock.now,
    append: async (records) => {
      if (!leading) throw YakError.of('NOT_LEADER', 'not leading');
      log.push(...records);
    },
    readOffsetsTopic: async function* () {
      for (const r of [...log]) yield r.payload;
    },
    partitionCount: (t) => topics[t],
    highWatermark: () => hwm,
    logStartOffset: () => 0,
    offsetForTimestamp: async () => 42,
    notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'),
    log: () => {},
  };
  const make = async () => {
    const c = new GroupCoordinator(host, { tickMs: 0 });
    c.activate();
    while (!c.isActive()) await new Promise((r) => setImmediate(r));
    return c;
  };
  return { clock, log, host, make, setLeading: (v: boolean) => (leading = v) };
}

const restJoin = (group: string, memberId = '', sessionTimeoutMs = 1000) => ({
  group,
  memberId,
  clientId: 'c',
  sessionTimeoutMs,
  rebalanceTimeoutMs: 1000,
  protocolType: YAK_PROTOCOL_TYPE,
  protocols: [{ name: 'range', metadata: encodeSubscription(['t']) }],
});

const flush = () => new Promise((r) => setImmediate(r));
const code = (p: Promise<unknown> | (() => unknown)) =>
  (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => 'ok', (e: YakError) => e.code);

test('two REST members share the partitions; the second join opens a new generation', async () => {
  const w = world();
  const c = await w.make();
  const a1 = await c.join(restJoin('g'));
  assert.equal(a1.generation, 1);
  assert.equal(decodeAssignment(a1.assignment!).length, 4);
  const bJoin = c.join(restJoin('g'));
  await flush();
  assert.equal(await code(() => c.heartbeat('g', a1.memberId, 1)), 'REBALANCE_IN_PROGRESS');
  const a2 = await c.join(restJoin('g', a1.memberId));
  const b = await bJoin;
  assert.equal(a2.generation, 2);
  assert.equal(b.generation, 2);
  const parts = [...decodeAssignment(a2.assignment!), ...decodeAssignment(b.assignment!)].map((p) => p.partition).sort();
  assert.deepEqual(parts, [0, 1, 2, 3]);
  assert.equal(decodeAssignment(a2.assignment!).length, 2);
  assert.equal(c.describe('g').state, 'Stable');
});

test('a stale generation or an unknown member cannot commit, and the refusal changes nothing', async () => {
  const w = world();
  const c = await w.make();
  const a = await c.join(restJoin('g'));
  await c.commit({ group: 'g', memberId: a.memberId, generation: a.generation, offsets: [{ topic: 't', partition: 0, offset: 5 }] });
  const written = w.log.length;
  assert.equal(await code(c.commit({ group: 'g', memberId: a.memberId, generation: a.generation - 1, offsets: [{ topic: 't', partition: 0, offset: 9 }] })), 'ILLEGAL_GENERATION');
  assert.equal(await code(c.commit({ group: 'g', memberId: 'nobody', generation: a.generation, offsets: [{ topic: 't', partition: 0, offset: 9 }] })), 'UNKNOWN_MEMBER_ID');
  assert.equal(await code(c.commit({ group: 'g', memberId: a.memberId, generation: a.generation, offsets: [{ topic: 't', partition: 0, offset: 101 }] })), 'INVALID_COMMIT_OFFSET');
  assert.equal(await code(c.commit({ group: 'g', memberId: a.memberId, generation: a.generation, offsets: [{ topic: 't', partition: 9, offset: 1 }] })), 'UNKNOWN_PARTITION');
  assert.equal(await code(c.commit({ group: 'g', memberId: a.memberId, generation: a.generation, offsets: [{ topic: 't', partition: 0, offset: 1, metadata: 'x'.repeat(5000) }] })), 'OFFSET_METADATA_TOO_LARGE');
  assert.equal(w.log.length, written);
  assert.equal(c.fetchOffsets('g')[0]!.offset, 5);
});

test('a committed offset never goes backwards by a commit; a reset of an empty group may move it back', async () => {
  const w = world();
  const c = await w.make();
  const a = await c.join(restJoin('g'));
  const commit = (offset: number) => c.commit({ group: 'g', memberId: a.memberId, generation: a.generation, offsets: [{ topic: 't', partition: 1, offset }] });
  await commit(10);
  const answer = await commit(3);
  assert.equal(answer[0]!.committed_offset, 10);
  assert.equal(await code(c.resetOffsets({ group: 'g', topic: 't', to: { kind: 'earliest' } })), 'NON_EMPTY_GROUP');
  c.leave('g', a.memberId);
  assert.equal(c.describe('g').state, 'Empty');
  const reset = await c.resetOffsets({ group: 'g', topic: 't', partitions: [1], to: { kind: 'offset', offset: 2 } });
  assert.deepEqual(reset, [{ topic: 't', partition: 1, committed_offset: 2 }]);
  assert.equal(await code(c.resetOffsets({ group: 'g', topic: 't', to: { kind: 'offset', offset: 101 } })), 'INVALID_COMMIT_OFFSET');
  const ts = await c.resetOffsets({ group: 'g', topic: 't', partitions: [0], to: { kind: 'timestamp', timestampMs: 5 } });
  assert.equal(ts[0]!.committed_offset, 42);
});

test("a member whose session expires is removed and its partitions go to the others", async () => {
  const w = world();
  const c = await w.make();
  const a = await c.join(restJoin('g', '', 1000));
  const bJoin = c.join(restJoin('g', '', 60_000));
  await flush();
  const a2 = await c.join(restJoin('g', a.memberId, 1000));
  const b = await bJoin;
  assert.equal(decodeAssignment(b.assignment!).length, 2);
  // b heartbeats, a goes silent
  w.clock.now += 800;
  c.heartbeat('g', b.memberId, a2.generation);
  w.clock.now += 800;
  c.tick();
  assert.equal(await code(() => c.heartbeat('g', a.memberId, a2.generation)), 'UNKNOWN_MEMBER_ID');
  assert.equal(await code(() => c.heartbeat('g', b.memberId, a2.generation)), 'REBALANCE_IN_PROGRESS');
  const b2 = await c.join(restJoin('g', b.memberId, 60_000));
  assert.equal(b2.generation, a2.generation + 1);
  assert.equal(decodeAssignment(b2.assignment!).length, 4);
});

test('a member that does not join again before the rebalance timeout is dropped from the new generation', async () => {
  const w = world();
  const c = await w.make();
  const a = await c.join(restJoin('g', '', 60_000));
  const bJoin = c.join(restJoin('g', '', 60_000));
  await flush();
  w.clock.now += 1001;
  c.tick();
  const b = await bJoin;
  assert.equal(decodeAssignment(b.assignment!).length, 4);
  assert.equal(await code(() => c.heartbeat('g', a.memberId, b.generation)), 'UNKNOWN_MEMBER_ID');
});

test("Kafka's client-side assignment: the leader gets every member's metadata and hands out the assignment in SyncGroup", async () => {
  const w = world();
  const c = await w.make();
  const kafkaJoin = (memberId: string) => ({ group: 'k', memberId, clientId: 'kafkajs', sessionTimeoutMs: 1000, rebalanceTimeoutMs: 1000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from(memberId || 'new') }] });
  const first = await c.join(kafkaJoin(''));
  assert.equal(first.leaderId, first.memberId);
  const secondJoin = c.join(kafkaJoin(''));
  await flush();
  const again = await c.join({ ...kafkaJoin(first.memberId), protocols: [{ name: 'range', metadata: Buffer.from('new') }] });
  const second = await secondJoin;
  assert.equal(again.members.length, 2, 'the leader sees both members');
  assert.equal(second.members.length, 0, 'a follower sees none');
  const followerSync = c.sync({ group: 'k', memberId: second.memberId, generation: second.generation });
  assert.equal(await code(c.commit({ group: 'k', memberId: second.memberId, generation: second.generation, offsets: [{ topic: 't', partition: 0, offset: 1 }] })), 'REBALANCE_IN_PROGRESS');
  const leaderSync = await c.sync({ group: 'k', memberId: again.memberId, generation: again.generation, assignments: [{ memberId: again.memberId, assignment: Buffer.from('A') }, { memberId: second.memberId, assignment: Buffer.from('B') }] });
  assert.equal(leaderSync.toString(), 'A');
  assert.equal((await followerSync).toString(), 'B');
  assert.equal(c.describe('k').state, 'Stable');
  const raw = c.describeRaw('k')!;
  assert.deepEqual(raw.members.map((m) => m.assignment.toString()).sort(), ['A', 'B']);
  assert.equal(c.describeRaw('nope'), null);
  assert.equal(await code(c.join({ ...kafkaJoin(''), protocolType: 'other' })), 'INCONSISTENT_GROUP_PROTOCOL');
});

test('a new leader rebuilds groups, generations and offsets from the offsets topic', async () => {
  const w = world();
  const c1 = await w.make();
  const a = await c1.join(restJoin('g', '', 60_000));
  await c1.commit({ group: 'g', memberId: a.memberId, generation: a.generation, offsets: [{ topic: 't', partition: 2, offset: 7 }] });
  c1.deactivate();
  assert.equal(await code(() => c1.describe('g')), 'NOT_LEADER');
  const c2 = await w.make();
  const view = c2.describe('g');
  assert.equal(view.generation, a.generation);
  assert.equal(view.members[0]!.member_id, a.memberId);
  assert.equal(view.offsets.find((o) => o.partition === 2)!.committed_offset, 7);
  assert.equal(view.offsets.find((o) => o.partition === 2)!.lag, 93);
  // The member carries on without a rebalance.
  c2.heartbeat('g', a.memberId, a.generation);
  await c2.commit({ group: 'g', memberId: a.memberId, generation: a.generation, offsets: [{ topic: 't', partition: 2, offset: 8 }] });
});

test('waiting joins are told to ask the new leader when this broker stops leading', async () => {
  const w = world();
  const c = await w.make();
  await c.join(restJoin('g', '', 60_000));
  const pending = c.join(restJoin('g', '', 60_000));
  c.deactivate();
  assert.equal(await code(pending), 'NOT_LEADER');
});

test('a commit from outside the group is kept even when the periodic sweep runs while it is being written', async () => {
  const w = world();
  const c = await w.make();
  const append = w.host.append;
  w.host.append = async (records) => {
    c.tick(); // the sweep of empty groups, in the middle of the write
    await append(records);
  };
  await c.commit({ group: 'tool', memberId: '', generation: -1, offsets: [{ topic: 't', partition: 0, offset: 3 }] });
  assert.equal(c.describe('tool').offsets[0]!.committed_offset, 3);
  assert.deepEqual(c.list().map((g) => g.group), ['tool']);
});

test('no REST member learns a generation before it is written to the offsets topic', async () => {
  const w = world();
  const c = await w.make();
  const a = await c.join(restJoin('g', '', 60_000));
  let release!: () => void;
  const append = w.host.append;
  w.host.append = async (records) => {
    await new Promise<void>((r) => (release = r));
    await append(records);
  };
  const bJoin = c.join(restJoin('g', '', 60_000));
  await flush();
  let answered = false;
  const aJoin = c.join(restJoin('g', a.memberId, 60_000)).then(
    (r) => ((answered = true), r),
    (e: YakError) => e.code,
  );
  await flush();
  assert.equal(answered, false, 'the join waits while generation 2 is being written');
  const again = c.join(restJoin('g', a.memberId, 60_000)).then((r) => ((answered = true), r)); // a retried join, meanwhile
  await flush();
  assert.equal(answered, false);
  release();
  const [a2, b, a3] = await Promise.all([aJoin, bJoin, again]);
  assert.equal(a2, 'REBALANCE_IN_PROGRESS', 'the first of two joins of one member is superseded');
  assert.equal(b.generation, 2);
  assert.equal((a3 as { generation: number }).generation, 2);
  assert.ok(w.log.some((r) => r.payload.includes('"generation":2')));
});
