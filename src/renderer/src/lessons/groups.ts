import type { GroupBrokerView, GroupDescription } from '../../../shared/cluster-api';
import { formatMs } from '../lib/format';
import { assignmentOf, describeAssignment, describeMoves, movesBetween, type Assignment } from '../lib/groupAssignment';
import { ensureTopic, runTag, sleep, type LessonContext } from './context';

export const GROUPS_TOPIC = 'lesson-groups';
export const GROUPS_PARTITIONS = 6;
/** Short, so a frozen member's session runs out within the lesson. */
export const GROUPS_SESSION_MS = 4000;
const FIRST_BATCH = 240;
const SECOND_BATCH = 120;
/** Per record, so that lag falls over a few seconds instead of at once. */
const PROCESS_DELAY_MS = 25;
const POLL_MS = 300;

/**
 * Lesson 7: consumer groups and lag. Two members (real GroupConsumers, run by the app) share the
 * topic's partitions; records are produced and the group's lag — high-water mark − committed
 * offset, per partition, as the leader's coordinator computes it — falls as they process and
 * commit. A third member joins: a rebalance, a new generation, partitions move. One member is
 * frozen: it stops heartbeating, its session expires, its partitions move to the others. Every
 * generation and assignment in the timeline is the leader's own GET /groups/{group}.
 */
export async function runGroups(ctx: LessonContext): Promise<string> {
  // A topic made elsewhere with another partition count is used as it is.
  const partitions = await ensureTopic(ctx, GROUPS_TOPIC, GROUPS_PARTITIONS);
  const group = `lesson-groups-${runTag()}`;
  const describe = (): Promise<GroupDescription> => ctx.api.describeGroup(group);

  /** Polls the leader until its view of the group passes `test`. */
  async function waitGroup(test: (b: GroupBrokerView) => boolean, timeoutMs: number, what: string): Promise<GroupBrokerView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const b = (await describe()).broker;
      if (b && test(b)) return b;
      if (Date.now() > deadline) throw new Error(`waited ${Math.round(timeoutMs / 1000)} s for ${what}, in vain (the leader says: ${b ? `${b.state}, generation ${b.generation}, ${b.members.length} member(s)` : 'no such group'})`);
      await sleep(POLL_MS);
    }
  }

  let last: Assignment | null = null;
  /** Records a generation as the leader reports it, with the partitions that moved since the last one. */
  function recordGeneration(b: GroupBrokerView, why: string): Assignment {
    const now = assignmentOf(b, GROUPS_TOPIC);
    const moves = movesBetween(last, now);
    ctx.record({
      kind: 'generation',
      source: 'broker',
      tone: 'info',
      generation: b.generation,
      text: `${why}: the leader reports generation ${b.generation} (${b.state}) — ${describeAssignment(now)}${last ? `; moved: ${describeMoves(moves)}` : ''}`,
    });
    last = now;
    return now;
  }

  /** Records the group's lag each time the leader's figure changes, until it reaches 0. */
  async function watchLagFall(what: string, timeoutMs: number): Promise<number[]> {
    const seen: number[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const b = (await describe()).broker;
      if (b && b.lag !== seen[seen.length - 1]) {
        seen.push(b.lag);
        const byPartition = b.offsets.filter((o) => o.topic === GROUPS_TOPIC).map((o) => `p${o.partition} ${o.lag ?? '—'}`).join(', ');
        ctx.record({ kind: b.lag === 0 ? 'lag-zero' : 'lag', source: 'broker', tone: b.lag === 0 ? 'ok' : 'info', generation: b.generation, text: `lag ${b.lag} (${byPartition}) — high-water mark − committed offset, from the leader` });
      }
      if (b && b.lag === 0) return seen;
      if (Date.now() > deadline) throw new Error(`${what}: the lag did not reach 0 within ${Math.round(timeoutMs / 1000)} s (last: ${seen[seen.length - 1] ?? 'unknown'})`);
      await sleep(POLL_MS);
    }
  }

  async function produce(count: number, from: number): Promise<void> {
    const records = Array.from({ length: count }, (_, i) => ({ partition: (from + i) % partitions, payload: { lesson: 'groups', group, n: from + i } }));
    const answer = await ctx.api.produceBatch(GROUPS_TOPIC, records);
    ctx.record({ kind: 'produced', source: 'broker', tone: 'ok', text: `${answer.results.length} records committed to ${GROUPS_TOPIC}, spread over its ${partitions} partitions (the leader's answer)` });
  }

  const base = { group, topic: GROUPS_TOPIC, sessionTimeoutMs: GROUPS_SESSION_MS, processDelayMs: PROCESS_DELAY_MS, startFrom: 'latest' as const };
  try {
    // 1. Two members; they start at the high-water marks (only this run's records count) and commit them.
    const firstTwo = await ctx.api.startGroupMembers({ ...base, count: 2 });
    ctx.record({ kind: 'members-started', source: 'supervisor', tone: 'info', text: `${firstTwo.join(' and ')} started in group ${group} (range assignor, session ${GROUPS_SESSION_MS} ms)` });
    const g1 = await waitGroup(
      (b) => b.state === 'Stable' && b.members.length === 2 && b.offsets.filter((o) => o.committedOffset !== null).length >= partitions,
      30_000,
      'two members in a stable generation with their starting offsets committed',
    );
    recordGeneration(g1, 'Two members joined');

    // 2. Produce; watch the lag fall as they process and commit.
    await produce(FIRST_BATCH, 0);
    const fall1 = await watchLagFall('after the first batch', 60_000);

    // 3. A third member: every member joins again, a new generation, partitions move.
    const [third] = await ctx.api.startGroupMembers({ ...base, count: 1 });
    const addedAt = Date.now();
    ctx.record({ kind: 'member-added', source: 'supervisor', tone: 'info', text: `${third} started: the coordinator asks every member to join again (heartbeats answer REBALANCE_IN_PROGRESS)` });
    const g2 = await waitGroup((b) => b.state === 'Stable' && b.members.length === 3 && b.generation > g1.generation, 30_000, 'a stable generation with three members');
    const beforeThird = last;
    const afterThird = recordGeneration(g2, `${third} joined (rebalance took ${formatMs(Date.now() - addedAt)} or less)`);
    const movedByThird = movesBetween(beforeThird, afterThird).length;

    // 4. Freeze a member holding partitions: no heartbeats, no processing.
    const victim = firstTwo.find((m) => (afterThird.holders[m]?.length ?? 0) > 0) ?? firstTwo[0]!;
    const victimParts = afterThird.holders[victim] ?? [];
    await ctx.api.groupMemberAction(victim, 'freeze');
    const frozenAt = Date.now();
    ctx.record({ kind: 'frozen', source: 'supervisor', tone: 'bad', text: `${victim} frozen: it stops heartbeating and processing; it held ${victimParts.map((p) => `p${p}`).join(', ') || 'nothing'}` });
    await produce(SECOND_BATCH, FIRST_BATCH);
    const g3 = await waitGroup((b) => b.state === 'Stable' && b.generation > g2.generation && !b.members.some((m) => m.clientId === victim), GROUPS_SESSION_MS * 4 + 20_000, `${victim}'s session to expire`);
    const expiredAfter = Date.now() - frozenAt;
    ctx.record({ kind: 'session-expired', source: 'broker', tone: 'bad', text: `the leader no longer lists ${victim}: no heartbeat for its session timeout (${GROUPS_SESSION_MS} ms); seen ${formatMs(expiredAfter)} after the freeze` });
    const afterFreeze = recordGeneration(g3, `${victim} removed`);
    const movedByFreeze = movesBetween(afterThird, afterFreeze).filter((m) => m.from === victim).length;
    const fall2 = await watchLagFall(`after ${victim} was removed`, 60_000);

    return [
      `A consumer group shares a topic's partitions among its members — each partition is read by exactly one member of a generation — and the coordinator (on the cluster leader) remembers how far the group got: its committed offsets. Lag is the high-water mark minus the committed offset; here it went ${fall1[0] ?? '?'} → 0 as two members processed ${FIRST_BATCH} records and committed after processing.`,
      `When ${third} joined, every member had to join again: generation ${g1.generation} became ${g2.generation} and ${movedByThird} partition(s) changed hands.`,
      `When ${victim} froze it kept its partitions — and their lag grew (up to ${Math.max(...fall2)}) — until its session of ${GROUPS_SESSION_MS} ms ran out without a heartbeat; then generation ${g3.generation} gave its ${movedByFreeze} partition(s) to the others, which went on from the committed offsets, so nothing was skipped (records processed but not yet committed are read again: at least once).`,
    ].join(' ');
  } finally {
    await ctx.api.stopGroupMembers(group).catch(() => 0);
  }
}
