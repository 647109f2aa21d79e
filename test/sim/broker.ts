import { redisCommandTimeoutMs } from '../../broker-runtime/src/election/decisions.js';
import { Elector } from '../../broker-runtime/src/election/elector.js';
import type { AcquireMode, InSyncSet } from '../../broker-runtime/src/election/lease-store.js';
import type { ElectorRules } from '../../broker-runtime/src/election/ports.js';
import type { Logger } from '../../broker-runtime/src/logger.js';
import type { TimePorts } from '../../broker-runtime/src/ports/clock.js';
import { FollowerApply } from '../../broker-runtime/src/replication/follower-apply.js';
import { decodeFrameKey } from '../../broker-runtime/src/replication/frame-auth.js';
import { FrameKeyCache } from '../../broker-runtime/src/replication/frame-key-cache.js';
import { HighWatermarkWaiters } from '../../broker-runtime/src/replication/hwm-waiters.js';
import { LeaderReplication } from '../../broker-runtime/src/replication/leader-replication.js';
import type { ReplicationRules } from '../../broker-runtime/src/replication/rules.js';
import type { Mutation } from './config.js';
import { Disk, SimLog } from './disk.js';
import { SimBrokerState, SimFramePoster, SimLeaseStore, simTime } from './ports.js';
import type { Probe, Runtime, Timer } from './runtime.js';
import { SimLogManager, SimPartitionLog } from './sim-log.js';

export interface SimBrokerConfig {
  id: string;
  leaseMs: number;
  renewMs: number;
  replicaLagMs: number;
  minInsync: number;
  uncleanElection: boolean;
  produceTimeoutMs: number;
  fsyncIntervalMs: number;
  maxEntries: number;
  mutation: Mutation | null;
}

/** After an append the outcome is unknown (503 outcome unknown, 504): the next leader may still commit it. */
export type ProduceOutcome = { ok: true; offset: number } | { ok: false; error: 'NOT_LEADER' | 'NOT_ENOUGH_REPLICAS' | 'NOT_COMMITTED' | 'TIMEOUT'; appended: boolean };

/** The elector's rules under a mutation: the real Elector with one rule put back as it was. */
export function electorRules(mutation: Mutation | null): ElectorRules {
  return {
    ignoreWriteDeadline: mutation === 'no-write-deadline',
    isrReadAfterAcquire: mutation === 'revert-B',
    hastyRecovery: mutation === 'revert-D',
    ignoreRememberedIsr: mutation === 'revert-D2',
    forgetStatedHistory: mutation === 'revert-D3',
  };
}

/** Replication's rules under a mutation. */
export function replicationRules(mutation: Mutation | null): ReplicationRules {
  return {
    hwmIgnoresFollowers: mutation === 'hwm-ignores-followers',
    dropUnknownExpansion: mutation === 'revert-A',
    skipDivergenceCheck: mutation === 'skip-divergence-check',
    cutWhenTold: mutation === 'revert-E',
  };
}

/**
 * broker/broker.ts for the simulation, wiring the real classes over the simulated world: the
 * Elector, LeaderReplication (with its FollowerSessions) in whichever role the broker has now,
 * FollowerApply and HighWatermarkWaiters — given the fake clock, Redis, network and disk as ports.
 * What remains here is broker.ts's own part: produce as produceInner does it, and the fsync timer.
 */
export class SimBroker {
  readonly logs: SimLog[];
  readonly elector: Elector;
  private readonly partitions: SimLogManager;
  private readonly store: SimLeaseStore;
  private readonly state: SimBrokerState;
  private readonly time: TimePorts;
  private readonly transport: SimFramePoster;
  private readonly follower: FollowerApply;
  private readonly commits: HighWatermarkWaiters;
  private readonly reads: HighWatermarkWaiters;
  private readonly log: Logger;
  leaderRep: LeaderReplication | null = null;
  private flushTimer: Timer | null = null;

  constructor(
    private readonly rt: Runtime,
    private readonly disk: Disk,
    private readonly cfg: SimBrokerConfig,
    private readonly probe: Probe,
  ) {
    this.logs = disk.parts.map((d, i) => new SimLog(i, d));
    this.partitions = new SimLogManager(this.logs.map((l) => new SimPartitionLog(l, cfg.maxEntries)));
    this.time = simTime(rt);
    this.log = (level, line) => {
      if (level !== 'debug' || process.env.SIM_DEBUG) rt.note(line);
    };
    this.commits = new HighWatermarkWaiters(this.time.timers);
    this.reads = new HighWatermarkWaiters(this.time.timers);
    this.transport = new SimFramePoster(rt);
    this.store = new SimLeaseStore(rt, redisCommandTimeoutMs(cfg.leaseMs, cfg.renewMs));
    this.state = new SimBrokerState(disk);
    this.elector = new Elector(
      this.store,
      this.state,
      {
        id: cfg.id,
        url: `sim://${cfg.id}`,
        leaseMs: cfg.leaseMs,
        renewMs: cfg.renewMs,
        // any-broker-may-lead: every broker takes the lease by unclean election.
        uncleanElection: cfg.uncleanElection || cfg.mutation === 'any-broker-may-lead',
        candidacy: () => ({
          lastLogEpoch: Math.max(-1, ...this.logs.map((l) => l.lastEpoch())),
          logEndTotal: this.logs.reduce((sum, l) => sum + l.logEndOffset(), 0),
        }),
        // Storage corruption and full disks are not modelled: no partition is ever unclean.
        whyNotLead: () => null,
        storageWritable: () => true,
        log: this.log,
        redisDisplay: 'redis',
      },
      this.time,
      electorRules(cfg.mutation),
    );
    this.elector.on('elected', (epoch, isr, mode) => this.becomeLeader(epoch, isr, mode));
    this.elector.on('demoted', (reason) => this.becomeFollower(reason));
    const frameKeys = new FrameKeyCache(async (epoch) => decodeFrameKey(await this.store.frameKey(epoch)), () => this.time.clock.now());
    this.follower = new FollowerApply({
      logs: this.partitions,
      currentEpoch: () => this.elector.currentEpoch(),
      isLeader: () => this.elector.isLeader(),
      observeEpoch: (epoch, holder) => this.elector.observeEpoch(epoch, holder),
      applyTopics: () => Promise.resolve(), // the one topic exists everywhere
      reads: this.reads,
      frameKey: (epoch) => frameKeys.get(epoch),
      onApplied: () => {},
      log: this.log,
      clock: this.time.clock,
      rules: replicationRules(cfg.mutation),
    });
  }

  start(): void {
    this.elector.start();
    this.scheduleFlush();
  }

  /** SIGTERM: leave the in-sync set, release the lease (the caller ends the process once this settles). */
  async stop(): Promise<boolean> {
    this.flushTimer?.cancel();
    const rep = this.leaderRep;
    if (rep) await rep.leave();
    await this.elector.stop();
    return this.store.released;
  }

  /** The events channel said a leader released its lease. */
  onReleased(): void {
    this.store.deliverRelease();
  }

  /** POST /replica/append: the answer's bytes, or a rejection carrying the HTTP status (401). */
  replicate(frame: Buffer, auth: string): Promise<Buffer> {
    return this.follower.handle(frame, auth);
  }

  /** Acting as leader: holds leadership and its lease is certainly valid on its own clock. */
  writable(): boolean {
    return this.leaderRep !== null && this.elector.canWrite();
  }

  private becomeLeader(epoch: number, isr: InSyncSet, mode: AcquireMode): void {
    this.rt.note(`leads epoch ${epoch}; logs (hwm/end) ${this.logs.map((l) => `${l.highWatermark()}/${l.logEndOffset()}`).join(' ')}`);
    this.probe.elected(this.cfg.id, epoch, mode);
    const rep: LeaderReplication = new LeaderReplication({
      logs: this.partitions,
      store: this.store,
      epoch,
      frameKey: this.elector.frameKey()!,
      self: { id: this.cfg.id, url: `sim://${this.cfg.id}` },
      transport: this.transport,
      time: this.time,
      initialIsr: isr.members,
      minInsync: () => this.cfg.minInsync,
      replicaLagMs: this.cfg.replicaLagMs,
      renewMs: this.cfg.renewMs,
      fence: () => this.elector.fence(),
      canWrite: () => this.elector.canWrite() && this.leaderRep === rep,
      metaVersion: () => this.partitions.topicsVersion(),
      commits: this.commits,
      reads: this.reads,
      onStaleEpoch: (newer) => void this.elector.observeEpoch(newer),
      rememberIsr: (doc) => this.state.rememberIsr(doc),
      initialIsrVersion: isr.epoch === epoch ? (isr.version ?? 0) : 0,
      onIsrChange: () => {},
      log: this.log,
      rules: replicationRules(this.cfg.mutation),
    });
    this.leaderRep = rep;
    rep.start();
  }

  private becomeFollower(reason: string): void {
    const rep = this.leaderRep;
    this.leaderRep = null;
    rep?.stop(new Error(`not the leader any more: ${reason}`));
  }

  /** produceInner for one record to an explicit partition. The write itself takes `writeMs`. */
  async produce(partition: number, value: string, writeMs: number): Promise<ProduceOutcome> {
    const rep = this.leaderRep;
    if (!rep || !this.elector.canWrite()) return this.refuse(value, 'NOT_LEADER', false);
    if (rep.inSyncCount() < this.cfg.minInsync) return this.refuse(value, 'NOT_ENOUGH_REPLICAS', false);
    const log = this.partitions.all()[partition]!;
    const epoch = this.elector.currentEpoch();
    const { lastOffset } = log.sim.append([value], epoch);
    await new Promise<void>((resolve) => this.rt.timer(writeMs, resolve)); // the write queue's I/O: other things run meanwhile
    rep.afterAppend(log);
    if (!rep.isActive()) return this.refuse(value, 'NOT_COMMITTED', true);
    let committed: boolean;
    try {
      committed = await this.commits.wait(log, lastOffset, this.cfg.produceTimeoutMs);
    } catch {
      return this.refuse(value, 'NOT_COMMITTED', true);
    }
    if (!committed) return this.refuse(value, 'TIMEOUT', true);
    this.probe.acked(this.cfg.id, partition, lastOffset, value);
    return { ok: true, offset: lastOffset };
  }

  private refuse(value: string, error: 'NOT_LEADER' | 'NOT_ENOUGH_REPLICAS' | 'NOT_COMMITTED' | 'TIMEOUT', appended: boolean): ProduceOutcome {
    this.probe.refused(this.cfg.id, value, appended, error);
    return { ok: false, error, appended };
  }

  private scheduleFlush(): void {
    this.flushTimer = this.rt.timer(this.cfg.fsyncIntervalMs, () => {
      this.disk.flush(this.logs.map((l) => l.highWatermark()));
      this.scheduleFlush();
    });
  }
}
