import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AssignerProtocol, Kafka, logLevel, type Consumer } from 'kafkajs';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get } from '../../../testkit/http.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import type { Reader } from '../../../broker-runtime/src/kafka/protocol/reader.js';
import { KafkaWire } from '../../../testkit/kafka-wire.js';
import { kcat } from '../../helpers/kcat.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * Consumer groups over the Kafka protocol, with real clients nobody here wrote: kcat -G (librdkafka
 * 2.0's balanced consumer, committing) and KafkaJS 2.2.4's consumer.run with two members sharing a
 * topic's partitions, KafkaJS admin describeGroups/fetchOffsets/listGroups, and a SIGKILL of the
 * leader (the coordinator) under a running group consumer: it rejoins and the group's committed
 * offsets survive.
 */
describe('Kafka consumer groups against a YAK cluster', () => {
  let cluster: TestCluster;
  let bootstrap: string;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 3, partitions: 4, kafka: true });
    bootstrap = cluster.bootstrap().join(',');
    await cluster.waitForLeader();
  });
  after(async () => {
    await cluster?.stop();
  });

  const kafka = (clientId: string) =>
    new Kafka({ clientId, brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } });

  const committed = async (group: string, topic: string) => {
    const admin = kafka('admin').admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return Object.fromEntries(t!.partitions.map((p) => [p.partition, Number(p.offset)]));
    } finally {
      await admin.disconnect();
    }
  };

  test('kcat -G reads every record once, commits, and a second run of the group reads only what came after', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `k${i}:v${i}`).join('\n') + '\n';
    assert.equal((await kcat(['-b', bootstrap, '-P', '-t', 'kg', '-K:'], lines)).code, 0);
    // Not -o beginning: with -G kcat starts every assigned partition there, whatever was committed.
    const group = ['-b', bootstrap, '-G', 'kcat-group', 'kg', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%s\n'];
    const first = await kcat(group);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.toString().trim().split('\n').sort(), Array.from({ length: 40 }, (_, i) => `v${i}`).sort());
    const offsets = await committed('kcat-group', 'kg');
    assert.equal(Object.values(offsets).reduce((s, o) => s + Math.max(0, o), 0), 40, JSON.stringify(offsets));
    assert.equal((await kcat(['-b', bootstrap, '-P', '-t', 'kg', '-K:'], 'late:after\n')).code, 0);
    const second = await kcat(group);
    assert.equal(second.stdout.toString(), 'after\n');
  });

  test('KafkaJS consumer.run with two members in one group: the partitions are shared, every record is read, offsets are committed; admin describes the group', async () => {
    const topic = 'kjs-group';
    const admin = kafka('admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const seen = new Map<string, { member: number; partition: number }>();
    const consumers: Consumer[] = [];
    try {
      for (const member of [0, 1]) {
        const c = kafka(`member-${member}`).consumer({ groupId: 'kjs-group', sessionTimeout: 10_000, heartbeatInterval: 500 });
        await c.connect();
        await c.subscribe({ topic, fromBeginning: true });
        await c.run({
          eachMessage: async ({ partition, message }) => {
            seen.set(message.value!.toString(), { member, partition });
          },
        });
        consumers.push(c);
      }
      // Both members hold partitions before anything is produced: the group is Stable with two members.
      const described = await waitFor(
        'a stable group of two members, each with partitions',
        async () => {
          const { groups } = await admin.describeGroups(['kjs-group']);
          const g = groups[0]!;
          if (g.state !== 'Stable' || g.members.length !== 2) return null;
          const held = g.members.map((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)!.assignment[topic] ?? []);
          return held.every((p) => p.length > 0) ? { g, held } : null;
        },
        60_000,
        200,
      );
      assert.equal(described.g.protocolType, 'consumer');
      assert.deepEqual(described.held.flat().sort(), [0, 1, 2, 3]);
      const producer = kafka('producer').producer();
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 80 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` })) });
      await producer.disconnect();
      await waitFor('every record read by one of the members', () => seen.size === 80, 30_000);
      const byMember = [0, 1].map((m) => new Set([...seen.values()].filter((s) => s.member === m).map((s) => s.partition)));
      assert.ok(byMember[0]!.size > 0 && byMember[1]!.size > 0, 'both members read');
      for (const p of byMember[0]!) assert.ok(!byMember[1]!.has(p), `partition ${p} read by one member only`);
      const hwms = await admin.fetchTopicOffsets(topic);
      await waitFor('offsets committed up to the high-water marks', async () => {
        const c = await committed('kjs-group', topic);
        return hwms.every((h) => c[h.partition] === Number(h.high));
      }, 30_000, 200);
      assert.ok((await admin.listGroups()).groups.some((g) => g.groupId === 'kjs-group' && g.protocolType === 'consumer'));
    } finally {
      for (const c of consumers) await c.disconnect();
      await admin.disconnect();
    }
    const { groups } = await (async () => {
      const a = kafka('admin').admin();
      await a.connect();
      try {
        return await a.describeGroups(['kjs-group']);
      } finally {
        await a.disconnect();
      }
    })();
    assert.equal(groups[0]!.state, 'Empty', 'both members left');
  });

  test('a SIGKILL of the leader under a running KafkaJS group consumer: it rejoins at the new leader, reads on, and the committed offsets survive', async () => {
    const topic = 'kill-group';
    const producer = kafka('killer-producer').producer();
    await producer.connect();
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i += 10) {
        await producer.send({ topic, acks: -1, messages: Array.from({ length: Math.min(10, to - i) }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}` })) });
      }
    };
    const seen = new Set<string>();
    const consumer = kafka('survivor').consumer({ groupId: 'kill-group', sessionTimeout: 10_000, heartbeatInterval: 500 });
    try {
      await send(0, 50);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
      await waitFor('the first 50 read', () => seen.size === 50, 60_000, 100);
      const before = await waitFor('the first 50 committed', async () => {
        const c = await committed('kill-group', topic);
        return Object.values(c).reduce((s, o) => s + Math.max(0, o), 0) === 50 ? c : null;
      }, 30_000, 200);
      const old = (await cluster.waitForLeader()).broker;
      await old.kill();
      const now = await cluster.waitForLeader(30_000, old.id);
      // The committed offsets were replicated with the group's internal topic: the new leader has them.
      const after = await waitFor('the new coordinator answers with the same offsets', async () => {
        try {
          return await committed('kill-group', topic);
        } catch {
          return null;
        }
      }, 30_000, 200);
      for (const [p, o] of Object.entries(before)) assert.ok(after[Number(p)]! >= o, `partition ${p}: ${after[Number(p)]} >= ${o}`);
      await send(50, 100);
      await waitFor('the consumer rejoined and read the 50 records produced after the failover', () => seen.size === 100, 60_000, 200);
      const res = await get(now.broker.url, '/groups/kill-group');
      assert.equal(res.status, 200);
      old.start();
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  test("raw wire: Kafka's error codes — NOT_COORDINATOR on a follower, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS — and a full join, sync, heartbeat, leave", async () => {
    const leader = (await cluster.waitForLeader()).broker;
    const follower = cluster.brokers.find((b) => b.id !== leader.id && b.running())!;
    const [FIND, JOIN, HEARTBEAT, LEAVE, SYNC] = [10, 11, 12, 13, 14];
    const join = (memberId: string) => new Writer().string('wire-group').int32(10_000).int32(10_000).string(memberId).string('consumer').array([0], (w) => w.string('range').bytes(Buffer.from('sub'))).toBuffer();
    const joinAnswer = (r: Reader) => {
      r.int32(); // throttle (v2)
      const a = { error: r.int16(), generation: r.int32(), protocol: r.string(), leader: r.string(), memberId: r.string() };
      return { ...a, members: r.array((r) => r.string()).length };
    };
    const sync = (generation: number, memberId: string, assignments: [string, Buffer][]) => new Writer().string('wire-group').int32(generation).string(memberId).array(assignments, (w, [m, a]) => w.string(m).bytes(a)).toBuffer();
    const syncAnswer = (r: Reader) => ({ throttle: r.int32(), error: r.int16(), assignment: r.bytes() });
    const heartbeat = async (wire: KafkaWire, generation: number, memberId: string) => {
      const r = await wire.request(HEARTBEAT, 1, new Writer().string('wire-group').int32(generation).string(memberId).toBuffer());
      r.int32();
      return r.int16();
    };

    // The broker the previous test restarted may still be opening its listeners (slow on a loaded machine).
    const onFollower = await waitFor(`${follower.id}'s Kafka listener`, () => KafkaWire.connect(cluster.kafkaPorts.get(follower.id)!), 30_000);
    // Right after a start the follower may not know the leader's Kafka address: 15, retried as clients do.
    const found = await waitFor('FindCoordinator answered without error', async () => {
      const r = await onFollower.request(FIND, 1, new Writer().string('wire-group').int8(0).toBuffer());
      r.int32();
      const error = r.int16();
      assert.ok(error === 0 || error === 15, `error ${error}`);
      return error === 0 ? r : null;
    }, 15_000, 200);
    found.nullableString();
    found.int32(); // node id
    found.string(); // host
    assert.equal(found.int32(), cluster.kafkaPorts.get(leader.id), 'the coordinator is the leader');
    assert.equal(joinAnswer(await onFollower.request(JOIN, 2, join(''))).error, 16, 'NOT_COORDINATOR on a follower');
    onFollower.close();

    const a = await KafkaWire.connect(cluster.kafkaPorts.get(leader.id)!);
    const first = joinAnswer(await a.request(JOIN, 2, join(''), 30_000));
    assert.equal(first.error, 0);
    assert.equal(first.leader, first.memberId, 'the only member leads');
    assert.equal(first.members, 1);
    assert.equal(syncAnswer(await a.request(SYNC, 1, sync(first.generation + 1, first.memberId, []))).error, 22, 'ILLEGAL_GENERATION');
    assert.equal(await heartbeat(a, first.generation, 'nobody'), 25, 'UNKNOWN_MEMBER_ID');
    const synced = syncAnswer(await a.request(SYNC, 1, sync(first.generation, first.memberId, [[first.memberId, Buffer.from('all of it')]])));
    assert.deepEqual([synced.error, synced.assignment.toString()], [0, 'all of it']);
    assert.equal(await heartbeat(a, first.generation, first.memberId), 0);

    // A second member's join waits for the first to join again; meanwhile the first is told REBALANCE_IN_PROGRESS.
    const b = await KafkaWire.connect(cluster.kafkaPorts.get(leader.id)!);
    const secondJoin = b.request(JOIN, 2, join(''), 30_000);
    await waitFor('the first member is told to rejoin', async () => (await heartbeat(a, first.generation, first.memberId)) === 27, 10_000, 100);
    const rejoined = joinAnswer(await a.request(JOIN, 2, join(first.memberId), 30_000));
    const second = joinAnswer(await secondJoin);
    assert.equal(rejoined.generation, first.generation + 1);
    assert.equal(second.generation, rejoined.generation);
    assert.equal(rejoined.members, 2, 'the leader gets every member');
    assert.equal(second.members, 0);

    const leave = await b.request(LEAVE, 1, new Writer().string('wire-group').string(second.memberId).toBuffer());
    leave.int32();
    assert.equal(leave.int16(), 0);
    assert.equal(await heartbeat(b, second.generation, second.memberId), 25, 'a member that left is unknown');
    a.close();
    b.close();
  });
});
