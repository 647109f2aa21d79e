import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GroupBrokerView, GroupDescription } from '../../../src/shared/cluster-api.js';
import type { Supervisor } from '../../../src/main/supervisor/index.js';
import { startDesktopCluster, type DesktopCluster } from '../../helpers/desktop-cluster.js';
import { waitFor } from '../../../testkit/wait.js';

/**
 * Group members run by the supervisor (the Consumer pane's and lesson 7's) against real brokers:
 * they share the partitions, process and commit; a frozen one stops heartbeating, so the
 * coordinator removes it and gives its partitions to the others; resumed, it joins again; stopped,
 * they leave. Every fact is read from the leader's GET /groups/{group} (describeGroup's `broker`).
 */
describe('group members run by the supervisor', () => {
  let sup: Supervisor;
  let cluster: DesktopCluster | undefined;
  const topic = 'members';
  const group = 'app-members';

  before(async () => {
    cluster = await startDesktopCluster(2);
    sup = cluster.sup;
    await sup.createTopic(topic, 4);
  });

  after(async () => {
    await cluster?.stop();
  });

  async function until(what: string, test: (b: GroupBrokerView, d: GroupDescription) => boolean): Promise<GroupBrokerView> {
    let found: GroupBrokerView | null = null;
    await waitFor(what, async () => {
      const d = await sup.describeGroup(group);
      if (d.broker && test(d.broker, d)) found = d.broker;
      return found !== null;
    }, 30_000, 200);
    return found!;
  }

    /** Lag 0 on every partition, each with a committed offset (the group's lag leaves out partitions with none). */
  const allCommitted = (g: GroupBrokerView) => g.offsets.length === 4 && g.offsets.every((o) => o.committedOffset !== null && o.committedOffset === o.highWatermark);
  const holders = (b: GroupBrokerView) => Object.fromEntries(b.members.map((m) => [m.clientId, m.partitions.map((p) => p.partition).sort()]));

  it('an unknown group is described with broker: null', async () => {
    const d = await sup.describeGroup('nobody-here');
    assert.equal(d.broker, null);
    assert.deepEqual(d.members, []);
  });

  it('two members share the partitions, process everything and commit it: lag 0', async () => {
    await sup.produceBatch(topic, Array.from({ length: 20 }, (_, i) => ({ payload: { i }, partition: i % 4 })));
    const names = await sup.startGroupMembers({ group, topic, count: 2, sessionTimeoutMs: 1500, processDelayMs: 0 });
    assert.equal(names.length, 2);
    const b = await until('two stable members, lag 0', (g) => g.state === 'Stable' && g.members.length === 2 && allCommitted(g));
    assert.deepEqual(Object.values(holders(b)).flat().sort(), [0, 1, 2, 3], 'each partition held once');
    assert.deepEqual(Object.keys(holders(b)).sort(), [...names].sort(), 'the leader names the members by the app names');
    for (const o of b.offsets) assert.equal(o.committedOffset, 5);
    const d = await sup.describeGroup(group);
    assert.ok(d.members.reduce((n, m) => n + m.processed, 0) >= 20);
  });

  it('refuses a second freeze and an unknown member, changing nothing', async () => {
    await assert.rejects(sup.groupMemberAction('member-99', 'stop'), /no group member named 'member-99'/);
    await assert.rejects(sup.groupMemberAction('member-1', 'resume'), /member-1 is not frozen/);
  });

  it('a frozen member is removed when its session expires, its partitions move, and the others process what it held', async () => {
    const before = await until('stable', (g) => g.state === 'Stable' && g.members.length === 2);
    const victim = 'member-1';
    await sup.groupMemberAction(victim, 'freeze');
    await assert.rejects(sup.groupMemberAction(victim, 'freeze'), /frozen already/);
    const processedBefore = (await sup.describeGroup(group)).members.find((m) => m.name === victim)!.processed;
    await sup.produceBatch(topic, Array.from({ length: 8 }, (_, i) => ({ payload: { i }, partition: i % 4 })));
    const after = await until(`${victim} removed and lag 0`, (g) => g.state === 'Stable' && g.generation > before.generation && g.members.length === 1 && allCommitted(g));
    assert.deepEqual(holders(after), { 'member-2': [0, 1, 2, 3] });
    for (const o of after.offsets) assert.equal(o.committedOffset, 7);
    const d = await sup.describeGroup(group);
    assert.equal(d.members.find((m) => m.name === victim)!.state, 'frozen');
    assert.equal(d.members.find((m) => m.name === victim)!.processed, processedBefore, 'a frozen member processes nothing');

    // Resumed, it learns it was removed and joins again as a new member.
    await sup.groupMemberAction(victim, 'resume');
    await until(`${victim} back in a new generation`, (g) => g.state === 'Stable' && g.generation > after.generation && g.members.length === 2);
  });

  it('stopGroupMembers stops every member: they leave, the group is empty and keeps its offsets', async () => {
    assert.equal(await sup.stopGroupMembers(group), 2);
    const b = await until('no members', (g) => g.members.length === 0);
    assert.equal(b.state, 'Empty');
    for (const o of b.offsets) assert.equal(o.committedOffset, 7);
    const d = await sup.describeGroup(group);
    assert.ok(d.members.every((m) => m.state === 'stopped'));
  });
});
