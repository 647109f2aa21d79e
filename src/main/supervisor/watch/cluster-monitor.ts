import type { GroupLagPoint, RatePoint } from '../../../shared/cluster-api.js';

/** The lag chart: a point a second, two minutes of them (as the rate chart). */
const LAG_SAMPLE_MS = 1000;
const LAG_HISTORY_POINTS = 120;
import type { ClusterProcesses } from '../processes/cluster-processes.js';
import { ClusterWatch } from './cluster-watch.js';
import type { EventLog } from '../event-log.js';
import { claimedLeader, mergeMembership, trustedMembership, type ClusterViewObs, type GroupObs, type Observation, type TopicObs } from './observation.js';
import { observeCluster, PollLoop } from './poller.js';
import { countersFrom, RateTracker } from './rates.js';
import { pingRedis } from '../redis/probe.js';

export interface MonitorDeps {
  procs: ClusterProcesses;
  events: EventLog;
  intervalMs: number;
  /** The Redis to ping each round, null when none is configured. */
  redisUrl(): string | null;
  /** The cluster credential's token (cluster-credential.ts), null before the first start. */
  token(): string | null;
  /** The supervisor's own produce/consume totals (rates fall back to them). */
  ownCounts(): { produced: number; consumed: number };
  /** Called after each round with what it saw (the failover run follows the cluster through it). */
  onObservation(obs: Observation): void;
  publish(): void;
}

/**
 * Watches the running cluster through the brokers' HTTP API: one round a few times a second,
 * turned into events (elections, lost leases, ISR changes), rates, and the last known state of
 * every replica's log for the snapshot.
 */
export class ClusterMonitor {
  private readonly watch = new ClusterWatch();
  private readonly rates = new RateTracker();
  private readonly loop: PollLoop;
  private active = false;
  /** Each broker's last /topics, kept after it stops answering (a dead replica's log is still there). */
  readonly replicaTopics = new Map<string, TopicObs[]>();
  /** When each broker last answered /topics (its entry in replicaTopics is that old). */
  readonly replicaSeenAt = new Map<string, number>();
  lastObs: Observation | null = null;
  /** The consumer groups the leader last listed (kept through rounds without a leader). */
  lastGroups: GroupObs[] | null = null;
  /** Every group's lag, one point a second at most, the last LAG_HISTORY_POINTS. */
  readonly groupLag: GroupLagPoint[] = [];
  /** The last membership (ISR, registrations) a leader reaching Redis reported. */
  lastMembership: ClusterViewObs | null = null;
  /** The highest epoch any broker has reported. */
  lastEpoch = 0;
  /**
   * The lease as the last broker to claim the lead last reported it (its own /health
   * lease_ms_left, and when it was asked). Kept while nobody else claims the lead, so a dead or
   * frozen leader's card can go on counting down the lease that is really running out in Redis.
   */
  lastLease: LastLease | null = null;
  redisReachable = false;

  constructor(private readonly deps: MonitorDeps) {
    this.loop = new PollLoop(() => this.round(), deps.intervalMs);
  }

  start(): void {
    this.active = true;
    this.loop.start();
  }

  /** A round as soon as possible (after a kill, an ack during a failover). */
  poke(): void {
    this.loop.poke();
  }

  /** Stops polling; what was seen is forgotten, except the replicas' last logs and the rates. */
  async stop(): Promise<void> {
    this.active = false;
    await this.loop.stop();
    this.watch.reset();
    this.lastObs = null;
    this.lastMembership = null;
    this.lastLease = null;
    this.redisReachable = false;
  }

  /** After a wipe: nothing seen before means anything any more. */
  forgetAll(): void {
    this.replicaTopics.clear();
    this.replicaSeenAt.clear();
    this.lastGroups = null;
    this.groupLag.length = 0;
    this.rates.reset();
    this.lastMembership = null;
    this.lastEpoch = 0;
  }

  rateHistory(): RatePoint[] {
    return this.rates.history();
  }

  private async round(): Promise<void> {
    const { procs, events } = this.deps;
    const targets = [...procs.brokers.values()]
      .filter((b) => b.url && b.process.alive && b.process.currentState !== 'paused')
      .map((b) => ({ id: b.id, url: b.url }));
    const redisUrl = this.deps.redisUrl();
    const [obs, redisUp] = await Promise.all([observeCluster(targets, undefined, this.deps.token()), redisUrl ? pingRedis(redisUrl, 300) : Promise.resolve(false)]);
    if (!this.active) return; // stopped while we were asking
    this.redisReachable = redisUp;
    if (redisUrl) obs.redisReachable = redisUp;
    if (redisUp) procs.redis?.markReady();
    for (const id of obs.health.keys()) procs.brokers.get(id)?.process.markReady();
    for (const [id, topics] of obs.topics) {
      this.replicaTopics.set(id, topics);
      this.replicaSeenAt.set(id, obs.at);
    }
    if (obs.groups) {
      this.lastGroups = obs.groups;
      const last = this.groupLag.at(-1);
      if (!last || obs.at - last.at >= LAG_SAMPLE_MS) {
        this.groupLag.push({ at: obs.at, lag: Object.fromEntries(obs.groups.map((g) => [g.group, g.lag])) });
        if (this.groupLag.length > LAG_HISTORY_POINTS) this.groupLag.splice(0, this.groupLag.length - LAG_HISTORY_POINTS);
      }
    }
    for (const e of this.watch.update(obs)) {
      events.emit(e.kind, e.message, { ...(e.brokerId ? { brokerId: e.brokerId } : {}), ...(e.epoch !== undefined ? { epoch: e.epoch } : {}) });
    }
    const trusted = trustedMembership(obs);
    if (trusted) this.lastMembership = mergeMembership(this.lastMembership, trusted);
    for (const h of obs.health.values()) this.lastEpoch = Math.max(this.lastEpoch, h.epoch);
    this.lastLease = nextLastLease(this.lastLease, obs);
    const own = this.deps.ownCounts();
    const { recordsIn, recordsOut } = countersFrom(obs.metrics);
    this.rates.sample({ at: obs.at, leaderId: obs.leaderId, recordsIn, recordsOut, ownProduced: own.produced, ownConsumed: own.consumed });
    this.lastObs = obs;
    this.deps.onObservation(obs);
    this.deps.publish();
  }
}

export interface LastLease {
  brokerId: string;
  epoch: number;
  msLeft: number;
  /** When that /health request was sent (HealthObs.askedAt): the lease runs out no earlier than at + msLeft. */
  at: number;
}

/**
 * A claiming leader's answer replaces the last lease; a round with no claim keeps it, unless its
 * holder answered and said it no longer leads (it knows best). Another broker's claim replaces it.
 */
export function nextLastLease(last: LastLease | null, obs: Observation): LastLease | null {
  const claim = claimedLeader(obs);
  if (claim) {
    const h = obs.health.get(claim.id);
    const msLeft = h?.leaseMsLeft ?? null;
    return msLeft === null ? null : { brokerId: claim.id, epoch: claim.epoch, msLeft, at: h?.askedAt ?? obs.at };
  }
  if (last && obs.health.has(last.brokerId)) return null;
  return last;
}
