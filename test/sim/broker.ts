import { redisCommandTimeoutMs } from '../../broker-runtime/src/election/decisions.js';
import { Elector } from '../../broker-runtime/src/election/elector.js';
import type { AcquireMode } from '../../broker-runtime/src/election/lease-store.js';
import type { ElectorRules } from '../../broker-runtime/src/election/ports.js';
import type { Mutation } from './config.js';
import { Disk, SimLog } from './disk.js';
import { SimFollowerApply } from './follower.js';
import { newerIsr } from '../../broker-runtime/src/election/decisions.js';
import { SimLeaderReplication } from './leader.js';
import { SimBrokerState, SimLeaseStore, simTime } from './ports.js';
import type { SimIsr } from './redis.js';
import type { Probe, Runtime, SimAnswer, SimFrame, Timer } from './runtime.js';
import { SimWaiters } from './waiters.js';

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
  };
}

/**
 * broker/broker.ts for the simulation: the real elector (election/elector.ts over the fake Redis,
 * clock and disk), the follower side, the leader side in whichever role the broker has now,
 * produce as produceInner does it, and the periodic fsync.
 */
export class SimBroker {
  readonly logs: SimLog[];
  readonly elector: Elector;
  private readonly store: SimLeaseStore;
  private readonly follower: SimFollowerApply;
  private readonly commits: SimWaiters;
  leaderRep: SimLeaderReplication | null = null;
  private flushTimer: Timer | null = null;

  constructor(
    private readonly rt: Runtime,
    private readonly disk: Disk,
    private readonly cfg: SimBrokerConfig,
    private readonly probe: Probe,
    incarnation: string,
  ) {
    this.logs = disk.parts.map((d, i) => new SimLog(i, d));
    this.commits = new SimWaiters(rt);
    this.store = new SimLeaseStore(rt, redisCommandTimeoutMs(cfg.leaseMs, cfg.renewMs));
    this.elector = new Elector(
      this.store,
      new SimBrokerState(disk),
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
        mayLead: () => true,
        storageWritable: () => true,
        log: (level, line) => {
          if (level !== 'debug') rt.note(line);
        },
        redisDisplay: 'redis',
      },
      simTime(rt),
      electorRules(cfg.mutation),
    );
    this.elector.on('elected', (epoch, isr, mode) => this.becomeLeader(epoch, isr, mode));
    this.elector.on('demoted', () => this.becomeFollower());
    this.follower = new SimFollowerApply({
      logs: this.logs,
      currentEpoch: () => this.elector.currentEpoch(),
      isLeader: () => this.elector.isLeader(),
      observeEpoch: (epoch, holder) => this.elector.observeEpoch(epoch, holder),
      note: (line) => rt.note(line),
      incarnation,
      mutation: cfg.mutation,
    });
  }

  start(): void {
    this.elector.start();
    this.scheduleFlush();
  }

  /** SIGTERM: release the lease (the caller ends the process once this settles). */
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

  replicate(frame: SimFrame): Promise<SimAnswer> {
    return this.follower.handle(frame);
  }

  /** Acting as leader: holds leadership and its lease is certainly valid on its own clock. */
  writable(): boolean {
    return this.leaderRep !== null && this.elector.canWrite();
  }

  private becomeLeader(epoch: number, isr: SimIsr, mode: AcquireMode): void {
    this.rt.note(`leads epoch ${epoch}; logs (hwm/end) ${this.logs.map((l) => `${l.highWatermark()}/${l.logEndOffset()}`).join(' ')}`);
    this.probe.elected(this.cfg.id, epoch, mode);
    const rep: SimLeaderReplication = new SimLeaderReplication(this.rt, {
      logs: this.logs,
      epoch,
      self: this.cfg.id,
      initialIsr: isr,
      minInsync: this.cfg.minInsync,
      replicaLagMs: this.cfg.replicaLagMs,
      renewMs: this.cfg.renewMs,
      maxEntries: this.cfg.maxEntries,
      fence: () => this.elector.fence(),
      canWrite: () => this.elector.canWrite() && this.leaderRep === rep,
      commits: this.commits,
      onStaleEpoch: (newer) => void this.elector.observeEpoch(newer),
      onIsrChange: () => {},
      remember: (written) => (this.disk.lastIsr = newerIsr(this.disk.lastIsr, written)),
      mutation: this.cfg.mutation,
    });
    this.leaderRep = rep;
    rep.start();
  }

  private becomeFollower(): void {
    const rep = this.leaderRep;
    this.leaderRep = null;
    rep?.stop();
  }

  /** produceInner for one record to an explicit partition. The write itself takes `writeMs`. */
  async produce(partition: number, value: string, writeMs: number): Promise<ProduceOutcome> {
    const rep = this.leaderRep;
    if (!rep || !this.elector.canWrite()) return this.refuse(value, 'NOT_LEADER', false);
    if (rep.inSyncCount() < this.cfg.minInsync) return this.refuse(value, 'NOT_ENOUGH_REPLICAS', false);
    const log = this.logs[partition]!;
    const epoch = this.elector.currentEpoch();
    const { lastOffset } = log.append([value], epoch);
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
