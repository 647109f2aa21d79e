import type { FailoverOptions, FailoverStep, FailoverStepName, FailoverStepTiming, FailoverTimeline } from '../../../shared/cluster-api.js';
import { claimedLeader, trustedMembership, type Observation } from '../watch/observation.js';
import { leaseEndAtTakeDown, leaseExpiredAt, type LeaseEnd, type LeaseKeyReading, type LeaseReport } from './lease-expiry.js';

/** What a failover run needs from the supervisor. */
export interface FailoverHost {
  /** SIGKILL or SIGSTOP the broker. */
  takeDown(brokerId: string, mode: FailoverOptions['mode']): Promise<void>;
  /** Start it again (after a kill) or SIGCONT it (after a pause). */
  bringBack(brokerId: string, mode: FailoverOptions['mode']): Promise<void>;
  onStep(timeline: FailoverTimeline, step: FailoverStep): void;
  onFinish(timeline: FailoverTimeline): void;
  /**
   * The lease key read from Redis right after the take-down (null: it could not be read). Without
   * it (and without lastLeaseReport) the lease-expired step is when a poll first saw it gone.
   */
  readLease?(): Promise<LeaseKeyReading | null>;
  /** The old leader's last /health lease_ms_left before the take-down: the estimate without Redis. */
  lastLeaseReport?: LeaseReport | null;
}

/** The whole run gives up after this long. */
export const FAILOVER_TIMEOUT_MS = 60_000;
/** Without the demo producer nobody may produce; the run goes on without a first commit after this. */
export const NO_COMMIT_GRACE_MS = 5_000;

type Phase = 'lease' | 'leader' | 'commit' | 'restart' | 'catch-up' | 'over';

/**
 * One "simulate failover": takes the leader down and records the timeline as the cluster heals.
 * Steps are inferred from observations (polls of the brokers' HTTP API) and from acknowledged
 * produces. A produce acknowledged after the kill proves a new leader existed by then, so the
 * inferred lease-expired and new-leader times are capped by the first ack, and every step's time
 * is at least the previous one's: the timeline always reads in order. The lease-expired step is
 * seen like the others, but timed by when the lease really ran out (lease-expiry.ts): the first poll
 * without it is up to a poll interval and the election late.
 */
export class FailoverRun {
  readonly timeline: FailoverTimeline;
  private phase: Phase = 'lease';
  private firstAckAt: number | null = null;
  /** When the old lease runs out, as known at the take-down; undefined while Redis is being read. */
  private leaseEnd: LeaseEnd | null | undefined = null;

  constructor(
    id: number,
    options: FailoverOptions,
    oldLeader: { id: string; epoch: number },
    /** Sum of the partitions' high-water marks before the kill, to see commits by others. */
    private readonly baselineHwm: number,
    private readonly host: FailoverHost,
    private readonly now: () => number = Date.now,
  ) {
    this.timeline = {
      id,
      options,
      startedAt: now(),
      oldLeader,
      newLeader: null,
      steps: [],
      gapMs: null,
      state: 'running',
      error: null,
    };
  }

  get running(): boolean {
    return this.timeline.state === 'running';
  }

  async begin(): Promise<void> {
    const { oldLeader, options } = this.timeline;
    await this.host.takeDown(oldLeader.id, options.mode);
    const how = options.mode === 'kill' ? 'killed (SIGKILL)' : 'paused (SIGSTOP)';
    this.leaseEnd = undefined;
    this.record('leader-lost', this.now(), `${oldLeader.id}, leader of epoch ${oldLeader.epoch}, ${how}`);
    // Right after the take-down: nothing renews the lease any more, so its PTTL says when it ends.
    const reading = this.host.readLease ? await this.host.readLease().catch(() => null) : null;
    this.leaseEnd = leaseEndAtTakeDown(oldLeader, reading, this.host.lastLeaseReport ?? null);
  }

  /**
   * A produce through the supervisor's client was acknowledged. Only a produce sent after the
   * leader was taken down counts: one sent before may be answered by the old leader a moment
   * after the signal, and would make the gap look shorter than it was.
   */
  onAck(ackAt: number, sentAt: number): void {
    if (!this.running || this.timeline.steps.length === 0) return;
    if (this.firstAckAt === null && sentAt >= this.timeline.steps[0]!.at) this.firstAckAt = ackAt;
  }

  onObservation(obs: Observation): void {
    if (!this.running || this.timeline.steps.length === 0) return;
    if (obs.at - this.timeline.startedAt > FAILOVER_TIMEOUT_MS) {
      this.fail(`gave up after ${FAILOVER_TIMEOUT_MS / 1000} s waiting for ${this.waitingFor()}`);
      return;
    }
    const { oldLeader, options } = this.timeline;
    const view = obs.cluster;
    // Who leads is what a broker says of itself (/health), never a follower's memory of the lease.
    const claim = claimedLeader(obs);
    const cap = (t: number) => Math.min(t, this.firstAckAt ?? Infinity);

    const newerClaim = claim !== null && claim.epoch > oldLeader.epoch;
    // While Redis is being read (a few ms after the take-down), the lease's end is not known yet.
    if (this.phase === 'lease' && this.leaseEnd === undefined) return;
    if (this.phase === 'lease' && (newerClaim || (view && (view.leader === null || view.leader.id !== oldLeader.id || view.epoch > oldLeader.epoch)))) {
      const expired = leaseExpiredAt(this.leaseEnd ?? null, this.stepAt('leader-lost'), cap(obs.at));
      this.record('lease-expired', expired.at, `the lease of epoch ${oldLeader.epoch} ran out in Redis`, expired.timing);
      this.phase = 'leader';
    }
    if (this.phase === 'leader' && claim && newerClaim && claim.id !== oldLeader.id) {
      this.timeline.newLeader = { id: claim.id, epoch: claim.epoch };
      this.record('new-leader', cap(obs.at), `${claim.id} elected with epoch ${claim.epoch}`);
      this.phase = 'commit';
    }
    if (this.phase === 'commit') {
      const newLeader = this.timeline.newLeader!;
      const hwm = totalHwm(obs, newLeader.id);
      if (this.firstAckAt !== null) {
        this.record('first-commit', this.firstAckAt, `first record acknowledged after the failover, committed under epoch ${newLeader.epoch}`);
      } else if (!options.demoProducer && hwm !== null && hwm > this.baselineHwm) {
        // Only without our own producer: records committed just before the kill (after the last
        // poll) would otherwise pass for a first commit of the new leader.
        this.record('first-commit', obs.at, `${newLeader.id} moved the high-water mark (${this.baselineHwm} → ${hwm} records committed)`);
      } else if (obs.at - this.stepAt('new-leader') > NO_COMMIT_GRACE_MS) {
        // Nobody produces (or the demo producer cannot get through): nothing to time. Go on
        // without that step — bringing the old leader back must never wait on a producer.
        this.phase = 'restart';
      }
      if (this.timeline.steps.some((s) => s.step === 'first-commit')) {
        const lost = this.stepAt('leader-lost');
        this.timeline.gapMs = this.stepAt('first-commit') - lost;
        this.phase = 'restart';
      }
      if (this.phase === 'restart') {
        if (options.restartOldLeader) void this.restartOldLeader();
        else this.finish();
        return;
      }
    }
    const membership = trustedMembership(obs);
    if (this.phase === 'catch-up' && membership) {
      const member = membership.brokers.find((b) => b.id === oldLeader.id);
      const leaderId = claim?.id ?? null;
      if (obs.health.has(oldLeader.id) && member?.alive && member.inSync && leaderId && caughtUp(obs, oldLeader.id, leaderId)) {
        this.record('caught-up', obs.at, `${oldLeader.id} is back in the in-sync set with every partition caught up`);
        this.finish();
      }
    }
  }

  fail(reason: string): void {
    if (!this.running) return;
    this.phase = 'over';
    this.timeline.state = 'failed';
    this.timeline.error = reason;
    this.host.onFinish(this.timeline);
  }

  private async restartOldLeader(): Promise<void> {
    this.phase = 'over'; // nothing to infer while the old broker comes back
    const { oldLeader, options } = this.timeline;
    try {
      await this.host.bringBack(oldLeader.id, options.mode);
    } catch (err) {
      this.fail(`could not bring ${oldLeader.id} back: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (!this.running) return;
    this.record('old-leader-restarted', this.now(), options.mode === 'kill' ? `${oldLeader.id} started again` : `${oldLeader.id} resumed (SIGCONT)`);
    this.phase = 'catch-up';
  }

  private finish(): void {
    if (!this.running) return;
    this.phase = 'over';
    this.timeline.state = 'done';
    this.host.onFinish(this.timeline);
  }

  private record(step: FailoverStepName, at: number, detail: string, timing?: FailoverStepTiming): void {
    const last = this.timeline.steps[this.timeline.steps.length - 1];
    const time = Math.max(at, last?.at ?? at);
    const entry: FailoverStep = { step, at: time, sinceStartMs: time - this.timeline.startedAt, detail, ...(timing ? { timing } : {}) };
    this.timeline.steps.push(entry);
    this.host.onStep(this.timeline, entry);
  }

  private stepAt(step: FailoverStepName): number {
    return this.timeline.steps.find((s) => s.step === step)?.at ?? this.timeline.startedAt;
  }

  private waitingFor(): string {
    const names: Record<Phase, string> = {
      lease: 'the old lease to expire',
      leader: 'a new leader',
      commit: 'a first commit',
      restart: 'the old leader to come back',
      'catch-up': `${this.timeline.oldLeader.id} to catch up and rejoin the in-sync set`,
      over: 'nothing',
    };
    return names[this.phase];
  }
}

/** Records committed across all partitions, as one broker reports them. */
export function totalHwm(obs: Observation, brokerId: string): number | null {
  const topics = obs.topics.get(brokerId);
  if (!topics) return null;
  return topics.reduce((sum, t) => sum + t.partitions.reduce((s, p) => s + p.highWatermark, 0), 0);
}

/** Every partition the leader has: the follower's log reaches the leader's high-water mark. */
export function caughtUp(obs: Observation, followerId: string, leaderId: string): boolean {
  const leader = obs.topics.get(leaderId);
  const follower = obs.topics.get(followerId);
  if (!leader || !follower) return false;
  return leader.every((t) => {
    const mine = follower.find((f) => f.name === t.name);
    return t.partitions.every((p) => {
      const replica = mine?.partitions.find((q) => q.partition === p.partition);
      return replica !== undefined && replica.logEndOffset >= p.highWatermark;
    });
  });
}
