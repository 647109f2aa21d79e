import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Reader } from '../../../broker-runtime/src/kafka/protocol/reader.js';
import { Writer } from '../../../broker-runtime/src/kafka/protocol/writer.js';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { call, produceToNewLeader } from '../../../testkit/http.js';
import { KafkaWire } from '../../../testkit/kafka-wire.js';
import { waitFor } from '../../../testkit/wait.js';

const JOIN = 11;
const GROUP_MAX_SIZE_REACHED = 81;

/**
 * The coordinator's memory is bounded against clients that invent groups or members: with
 * --max-groups 3 and --max-group-members 2, the join, commit or reset that would create a fourth
 * group is refused (REST 409 TOO_MANY_GROUPS, Kafka 81) and a third member of a group is refused
 * (REST 409 GROUP_MAX_SIZE_REACHED, Kafka 81); a refusal changes nothing.
 */
describe('group limits (--max-groups, --max-group-members)', () => {
  let cluster: TestCluster;
  let url: string;
  const wires: KafkaWire[] = [];
  const join = (group: string, memberId = '') =>
    new Writer().string(group).int32(30_000).int32(30_000).string(memberId).string('consumer').array([0], (w) => w.string('range').bytes(Buffer.from('sub'))).toBuffer();
  const joinError = (r: Reader) => {
    r.int32(); // throttle (v2)
    return r.int16();
  };

  before(async () => {
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, kafka: true, extra: ['--max-groups', '3', '--max-group-members', '2'] });
    url = (await cluster.waitForLeader()).broker.url;
    assert.equal((await produceToNewLeader(url, { topic: 'data', payload: 1 })).status, 200);
  });
  after(async () => {
    for (const w of wires) w.close();
    await cluster?.stop();
  });

  test('REST and Kafka: a fourth group and a third member are refused, and nothing changes', async () => {
    const commit = (group: string) => call(url, 'POST', `/groups/${group}/commit`, { offsets: [{ topic: 'data', partition: 0, offset: 1 }] });
    assert.equal((await commit('g1')).status, 200);
    assert.equal((await commit('g2')).status, 200);

    // Kafka: a third group, its first member; a second member waits for the first to join again.
    const port = cluster.kafkaPorts.get(cluster.brokers[0]!.id)!;
    const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map(() => KafkaWire.connect(port)));
    wires.push(a!, b!, c!, d!);
    assert.equal(joinError(await a!.request(JOIN, 2, join('kg'), 30_000)), 0);
    void b!.request(JOIN, 2, join('kg'), 60_000).catch(() => undefined);
    await waitFor('the second member is in the group', async () => ((await call(url, 'GET', '/groups/kg')).body.members?.length === 2 ? true : null), 10_000, 100);
    assert.equal(joinError(await c!.request(JOIN, 2, join('kg'), 30_000)), GROUP_MAX_SIZE_REACHED, 'a third member: Kafka 81');
    assert.equal(joinError(await d!.request(JOIN, 2, join('kg-new'), 30_000)), GROUP_MAX_SIZE_REACHED, 'a fourth group: Kafka 81');

    // REST: a fourth group by a commit, a join or a reset.
    const refused = await commit('g4');
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'TOO_MANY_GROUPS');
    assert.equal(refused.body.limit, 3);
    const joined = await call(url, 'POST', '/groups/g5/join', { topics: ['data'] });
    assert.equal(joined.status, 409, joined.text);
    assert.equal(joined.body.error, 'TOO_MANY_GROUPS');
    const reset = await call(url, 'POST', '/groups/g6/reset', { topic: 'data', to: 'earliest' });
    assert.equal(reset.status, 409, reset.text);
    const listed = (await call(url, 'GET', '/groups')).body.groups.map((g: { group: string }) => g.group).sort();
    assert.deepEqual(listed, ['g1', 'g2', 'kg']);
    assert.equal((await call(url, 'GET', '/groups/g4')).status, 404);

    // REST: members of an existing group, up to the cap.
    const m1 = await call(url, 'POST', '/groups/g1/join', { topics: ['data'], session_timeout_ms: 30_000, rebalance_timeout_ms: 30_000 });
    assert.equal(m1.status, 200, m1.text);
    void call(url, 'POST', '/groups/g1/join', { topics: ['data'], session_timeout_ms: 30_000, rebalance_timeout_ms: 30_000 }).catch(() => undefined);
    await waitFor('the second REST member is in the group', async () => ((await call(url, 'GET', '/groups/g1')).body.members?.length === 2 ? true : null), 10_000, 100);
    const third = await call(url, 'POST', '/groups/g1/join', { topics: ['data'] });
    assert.equal(third.status, 409, third.text);
    assert.equal(third.body.error, 'GROUP_MAX_SIZE_REACHED');
    assert.equal((await call(url, 'GET', '/groups/g1')).body.members.length, 2);
    // A group that exists still takes commits.
    assert.equal((await commit('g2')).status, 200);
  });
});
