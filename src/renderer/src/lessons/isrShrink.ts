import type { BrokerProduceAnswer } from '../../../shared/cluster-api';
import { currentLeader, ensureTopic, runTag, type LessonContext } from './context';
import { eventEntry } from './failover';

export const ISR_TOPIC = 'lesson-isr';
/** The lesson topic's min.insync.replicas: one frozen follower is tolerated, two are not. */
const LESSON_MIN_INSYNC = 2;

/**
 * Lesson 5: the in-sync set shrinks, and NOT_ENOUGH_REPLICAS. The followers are frozen one by one;
 * after each has left the in-sync set (the leader's /metadata/cluster), one write goes to the
 * leader and its answer is shown: committed while the set still has at least min-in-sync members,
 * refused with 503 NOT_ENOUGH_REPLICAS below that — nothing written. Then they are resumed.
 *
 * The lesson's own topic gets min.insync.replicas = 2 (a topic config, applied live by the leader),
 * so the refusal shows on any cluster of 3 or more brokers without touching the cluster's setting.
 */
export async function runIsrShrink(ctx: LessonContext): Promise<string> {
  const start = ctx.snapshot();
  const leader = currentLeader(start);
  if (!start || !leader) throw new Error('no broker leads right now: start the cluster (or wait for an election) first');
  const followers = start.brokers.filter((b) => b.id !== leader.id && b.inSync && b.reachable).map((b) => b.id);
  if (followers.length === 0) throw new Error('the lesson needs at least one in-sync follower');
  const minInsync = LESSON_MIN_INSYNC;
  await ensureTopic(ctx, ISR_TOPIC, 1);
  await ctx.api.setTopicConfig(ISR_TOPIC, { 'min.insync.replicas': minInsync });
  const run = runTag();
  let n = 0;
  const results: { isr: number; answer: BrokerProduceAnswer }[] = [];

  const write = async (isr: number): Promise<void> => {
    const ref = `${run}#${n}`;
    const [answer] = await ctx.api.produceOnBroker(leader.id, [{ topic: ISR_TOPIC, partition: 0, payload: { lesson: 'isr', run, n: n++ } }], 15_000);
    results.push({ isr, answer: answer! });
    const a = answer!;
    ctx.record(
      a.result
        ? { at: a.answeredAt, kind: 'ack', source: 'broker', tone: 'ok', ref, broker: a.brokerId, partition: 0, offset: a.result.offset, text: `With ${isr} in sync (min ${minInsync}): ${a.brokerId} committed a write at offset ${a.result.offset}` }
        : { at: a.answeredAt, kind: 'refused', source: 'broker', tone: 'bad', ref, broker: a.brokerId, text: `With ${isr} in sync (min ${minInsync}): ${a.brokerId} answered ${a.status} ${a.error!.code} — “${a.error!.message}”` },
    );
  };

  const paused: string[] = [];
  try {
    ctx.record({ kind: 'isr-start', source: 'cluster', tone: 'info', broker: leader.id, epoch: leader.epoch, text: `${leader.id} leads; in sync: ${[leader.id, ...followers].join(', ')}; min.insync.replicas of ${ISR_TOPIC}: ${minInsync}, set live on the topic` });
    await write(followers.length + 1);
    for (const f of followers) {
      await ctx.api.brokerAction(f, 'pause');
      paused.push(f);
      ctx.record({ kind: 'paused', source: 'supervisor', tone: 'bad', broker: f, text: `${f} frozen with SIGSTOP` });
      const left = await ctx.waitFor((s) => s.brokers.find((b) => b.id === f)?.inSync === false, 30_000, `${f} to leave the in-sync set`);
      const isr = left.brokers.filter((b) => b.inSync).length;
      ctx.record({ at: left.at, kind: 'isr-size', source: 'cluster', tone: isr < minInsync ? 'bad' : 'info', text: `${leader.id}'s /metadata/cluster: ${f} is out of the in-sync set, ${isr} left` });
      await write(isr);
    }
  } finally {
    for (const f of paused) await ctx.api.brokerAction(f, 'resume').catch(() => undefined);
  }
  ctx.record({ kind: 'resumed', source: 'supervisor', tone: 'info', text: `${paused.join(', ')} resumed with SIGCONT` });
  const back = await ctx.waitFor((s) => followers.every((f) => s.brokers.find((b) => b.id === f)?.inSync), 30_000, 'the followers to rejoin the in-sync set');
  ctx.record({ at: back.at, kind: 'isr-size', source: 'cluster', tone: 'ok', text: `All ${followers.length + 1} brokers are in sync again` });
  await write(followers.length + 1);
  for (const e of ctx.eventsSinceStart()) {
    const entry = eventEntry(e);
    if (entry) ctx.record(entry);
  }

  const refused = results.filter((r) => !r.answer.result);
  const smallest = Math.min(...results.map((r) => r.isr));
  if (refused.length > 0) {
    return `Each frozen follower left the in-sync set after the replica lag time, and the leader kept committing while at least ${minInsync} replicas were in sync. With ${smallest} in sync it refused the write with ${refused[0]!.answer.status} NOT_ENOUGH_REPLICAS and wrote nothing: a record acknowledged then would have had fewer copies than promised. Once the followers caught up and rejoined, writes were committed again.`;
  }
  return `Each frozen follower left the in-sync set, down to ${smallest} (the leader alone), and every write was still committed: with min.insync.replicas ${minInsync} and only ${followers.length + 1} brokers, the set never fell below it. Add a broker, or lower the topic's setting in the Topics table, and run it again.`;
}
