import type { ClusterSnapshot } from '../../../shared/cluster-api';
import { formatMs } from '../lib/format';
import { currentLeader, ensureTopic, runTag, type LessonContext } from './context';
import { eventEntry } from './failover';
import { runningSettings } from '../lib/runningSettings';

export const HWM_TOPIC = 'lesson-hwm';
export const HWM_WRITES = 10;

interface Offsets {
  leaderEnd: number;
  hwm: number;
  followerEnd: number | null;
}

/** The partition as each broker's own /topics reports it (the supervisor polls them every 400 ms). */
function offsetsOf(s: ClusterSnapshot, leaderId: string, followerId: string): Offsets | null {
  const p = s.topics.find((t) => t.name === HWM_TOPIC)?.partitions.find((x) => x.partition === 0);
  const leader = p?.replicas.find((r) => r.brokerId === leaderId);
  if (!p || !leader) return null;
  const follower = s.brokers.find((b) => b.id === followerId);
  const followerReplica = follower?.reachable ? p.replicas.find((r) => r.brokerId === followerId) : undefined;
  return { leaderEnd: leader.logEndOffset, hwm: leader.highWatermark, followerEnd: followerReplica?.logEndOffset ?? null };
}

/**
 * Lesson 4: replication and the high-water mark. A follower is frozen (SIGSTOP) and writes go to
 * the leader: it appends them (its log end moves) but cannot commit them (its high-water mark
 * stays) while the frozen follower is still in the in-sync set. Once the follower has lagged for
 * the replica lag time the leader drops it from the set, the mark jumps and the writes are
 * acknowledged. The follower is resumed, fetches what it missed, and rejoins.
 */
export async function runHighWatermark(ctx: LessonContext): Promise<string> {
  const start = ctx.snapshot();
  const leader = currentLeader(start);
  if (!start || !leader) throw new Error('no broker leads right now: start the cluster (or wait for an election) first');
  const follower = start.brokers.find((b) => b.id !== leader.id && b.inSync && b.reachable);
  if (!follower) throw new Error('the lesson needs an in-sync follower to freeze');
  await ensureTopic(ctx, HWM_TOPIC, 1);
  const run = runTag();

  // Watch both brokers' own offsets for the whole run: one line per change.
  let last: Offsets | null = null;
  let widest = 0;
  const sample = (s: ClusterSnapshot | null) => {
    if (!s) return;
    const now = offsetsOf(s, leader.id, follower.id);
    if (!now || (last && now.leaderEnd === last.leaderEnd && now.hwm === last.hwm && now.followerEnd === last.followerEnd)) return;
    last = now;
    const uncommitted = now.leaderEnd - now.hwm;
    widest = Math.max(widest, uncommitted);
    const behind = now.followerEnd === null ? `${follower.id} does not answer` : `${follower.id}'s log end ${now.followerEnd}`;
    ctx.record({
      at: s.at,
      kind: uncommitted > 0 ? 'offsets-uncommitted' : 'offsets',
      source: 'cluster',
      tone: uncommitted > 0 ? 'bad' : 'info',
      broker: leader.id,
      partition: 0,
      offset: now.leaderEnd,
      text: `${leader.id}: log end ${now.leaderEnd}, high-water mark ${now.hwm}${uncommitted > 0 ? ` — ${uncommitted} record(s) written but not committed` : ''}; ${behind} (each broker's own /topics)`,
    });
  };
  const stopWatching = ctx.watchSnapshots(sample);
  try {
    const warm = (await ctx.api.produceOnBroker(leader.id, [{ topic: HWM_TOPIC, partition: 0, payload: { lesson: 'hwm', run, n: 0 } }]))[0]!;
    if (!warm.result) throw new Error(`${leader.id} refused a write: ${warm.error?.code} ${warm.error?.message}`);
    await ctx.waitFor((s) => offsetsOf(s, leader.id, follower.id)?.followerEnd === warm.result!.offset + 1, 15_000, `${follower.id} to have the first record`);

    await ctx.api.brokerAction(follower.id, 'pause');
    ctx.record({ kind: 'paused', source: 'supervisor', tone: 'bad', broker: follower.id, text: `${follower.id} frozen with SIGSTOP: it is still in the in-sync set, so every commit waits for it` });
    const sentAt = Date.now();
    const requests = Array.from({ length: HWM_WRITES }, (_, i) => ({ topic: HWM_TOPIC, partition: 0, payload: { lesson: 'hwm', run, n: i + 1 } }));
    ctx.record({ kind: 'sent', source: 'supervisor', tone: 'info', broker: leader.id, text: `${HWM_WRITES} writes sent to ${leader.id} at once` });
    const answers = await ctx.api.produceOnBroker(leader.id, requests, 30_000);
    for (const a of answers) {
      ctx.record(
        a.result
          ? { at: a.answeredAt, kind: 'ack', source: 'broker', tone: 'ok', broker: a.brokerId, partition: a.result.partition, offset: a.result.offset, ref: `${run}#${(requests[answers.indexOf(a)]!.payload as { n: number }).n}`, text: `${a.brokerId} acknowledged a write at offset ${a.result.offset} after ${formatMs(a.answeredAt - a.sentAt)}` }
          : { at: a.answeredAt, kind: 'refused', source: 'broker', tone: 'bad', broker: a.brokerId, text: `${a.brokerId} refused a write: ${a.status} ${a.error?.code} “${a.error?.message}”` },
      );
    }
    const acked = answers.filter((a) => a.result);
    const waited = acked.length ? Math.max(...acked.map((a) => a.answeredAt)) - sentAt : null;

    await ctx.api.brokerAction(follower.id, 'resume');
    ctx.record({ kind: 'resumed', source: 'supervisor', tone: 'info', broker: follower.id, text: `${follower.id} resumed with SIGCONT: it fetches what it missed from ${leader.id}` });
    const caught = await ctx.waitFor(
      (s) => {
        const o = offsetsOf(s, leader.id, follower.id);
        return o !== null && o.followerEnd === o.leaderEnd && (s.brokers.find((b) => b.id === follower.id)?.inSync ?? false);
      },
      30_000,
      `${follower.id} to catch up and rejoin the in-sync set`,
    );
    sample(caught);
    for (const e of ctx.eventsSinceStart()) {
      const entry = eventEntry(e);
      if (entry) ctx.record(entry);
    }
    const lag = runningSettings(ctx.snapshot()).leaseSeconds;
    return [
      widest > 0
        ? `While ${follower.id} was frozen, ${leader.id} wrote the records to its own log at once — its log end moved — but its high-water mark did not (up to ${widest} records written and not committed): a record is committed only when every member of the in-sync set has it, and the frozen follower was still a member.`
        : `The supervisor's poll (every 400 ms) did not catch the leader's log end ahead of its high-water mark this time; run it again to see it. A record is committed only when every member of the in-sync set has it, and the frozen follower was still a member.`,
      waited !== null ? `After ${formatMs(waited)} (the replica lag limit is ${lag} s here) the leader took ${follower.id} out of the set, the mark jumped to the log end and the writes were acknowledged.` : 'No write was acknowledged.',
      `Consumers only ever see records below the mark. Once resumed, ${follower.id} fetched the records it missed and rejoined the set.`,
    ].join(' ');
  } finally {
    stopWatching();
    if (ctx.snapshot()?.brokers.find((b) => b.id === follower.id)?.process.state === 'paused') await ctx.api.brokerAction(follower.id, 'resume').catch(() => undefined);
  }
}
