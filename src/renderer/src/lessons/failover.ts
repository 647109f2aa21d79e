import type { ClusterEvent, FailoverOptions, FailoverTimeline } from '../../../shared/cluster-api';
import { formatMs } from '../lib/format';
import { currentLeader, type LessonContext } from './context';
import type { EntryInput } from './timeline';
import { runningSettings } from '../lib/runningSettings';

/** Lesson 2 runs the Dashboard's own failover simulation: the leader is killed, then restarted. */
export const FAILOVER_LESSON_OPTIONS: FailoverOptions = { mode: 'kill', restartOldLeader: true, demoProducer: true };

/** Cluster events worth a line in a lesson's timeline (failover steps are recorded from the timeline itself). */
const EVENT_KINDS = new Set<ClusterEvent['kind']>(['leader-elected', 'lease-lost', 'isr-shrink', 'isr-expand', 'process-exited', 'process-started', 'process-signal']);

export function eventEntry(e: ClusterEvent): EntryInput | null {
  if (!EVENT_KINDS.has(e.kind)) return null;
  return {
    at: e.at,
    kind: `event-${e.kind}`,
    source: 'cluster',
    tone: e.kind === 'isr-shrink' || e.kind === 'lease-lost' || e.kind === 'process-exited' ? 'bad' : 'info',
    text: e.message,
    ...(e.brokerId ? { broker: e.brokerId } : {}),
    ...(e.epoch !== undefined ? { epoch: e.epoch } : {}),
  };
}

/**
 * Lesson 2: leader failover with the measured gap. The supervisor's failover simulation (the same
 * one as the Dashboard's button) kills the leader and times each step from its poll of the
 * brokers' /health and /topics and from a demo producer's acknowledgements.
 */
export async function runFailover(ctx: LessonContext, simulate: (o: FailoverOptions) => Promise<FailoverTimeline | null>): Promise<string> {
  const before = currentLeader(ctx.snapshot());
  if (!before) throw new Error('no broker leads right now: start the cluster (or wait for an election) first');
  if ((ctx.snapshot()?.brokers.filter((b) => b.inSync).length ?? 0) < 2) throw new Error('a failover needs at least one other in-sync broker to take over');
  ctx.record({ kind: 'leader-before', source: 'cluster', tone: 'info', broker: before.id, epoch: before.epoch, text: `${before.id} leads with epoch ${before.epoch} (its own /health)` });

  const timeline = await simulate(FAILOVER_LESSON_OPTIONS);
  if (!timeline) throw new Error('a failover simulation is already running (started from the Dashboard?); run the lesson once it is over');
  for (const e of ctx.eventsSinceStart()) {
    const entry = eventEntry(e);
    if (entry) ctx.record(entry);
  }
  for (const step of timeline.steps) {
    const isNew = step.step === 'new-leader' && timeline.newLeader;
    ctx.record({
      at: step.at,
      kind: `failover-${step.step}`,
      source: 'supervisor',
      tone: step.step === 'leader-lost' ? 'bad' : 'ok',
      text: step.detail,
      ...(isNew ? { broker: timeline.newLeader!.id, epoch: timeline.newLeader!.epoch } : {}),
    });
  }
  if (timeline.state === 'failed') throw new Error(timeline.error ?? 'the failover simulation failed');
  const next = timeline.newLeader;
  if (!next) throw new Error('no new leader was seen');
  const lease = runningSettings(ctx.snapshot()).leaseSeconds;
  const step = (name: string) => timeline.steps.find((s) => s.step === name);
  const elected = step('new-leader');
  const caught = step('caught-up');
  if (timeline.gapMs !== null) {
    const lost = step('leader-lost');
    ctx.record({ ...(lost ? { at: lost.at + timeline.gapMs } : {}), kind: 'gap', source: 'supervisor', tone: 'info', text: `No record was committed for ${formatMs(timeline.gapMs)} (leader lost → first commit)` });
  }
  return [
    `${before.id} (epoch ${before.epoch}) was killed with SIGKILL.`,
    `${next.id} took over with epoch ${next.epoch}${elected ? `, ${formatMs(elected.sinceStartMs)} after the kill` : ''}: nobody can take the lead before the old lease (${lease} s) has run out, because a frozen leader might still think it holds it.`,
    timeline.gapMs !== null ? `Writes stopped for ${formatMs(timeline.gapMs)} — the lease, the election, then the first write replicated to the new in-sync set.` : '',
    caught ? `${before.id} came back as a follower, fetched what it missed and rejoined the in-sync set ${formatMs(caught.sinceStartMs)} after the kill.` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
