import { acquireMode, clusterHasHistory, followerPollMs, newerIsr, nextLookDelay, nextRenewDelay, recoveryWaitMs, redisCommandTimeoutMs, writableUntil } from '../../broker-runtime/src/election/decisions.js';
import type { AcquireMode, InSyncSet, LeaseHolder } from '../../broker-runtime/src/election/lease-store.js';
import type { Mutation } from './config.js';
import type { Disk } from './disk.js';
import type { SimCandidacy, SimIsr } from './redis.js';
import type { Runtime, Timer } from './runtime.js';

export interface SimElectorOptions {
  id: string;
  leaseMs: number;
  renewMs: number;
  uncleanElection: boolean;
  candidacy: () => Omit<SimCandidacy, 'id' | 'highestEpoch'>;
  /** False while a partition is unclean (never here: storage corruption is not modelled). */
  mayLead: () => boolean;
  mutation: Mutation | null;
  onElected(epoch: number, isr: SimIsr, mode: AcquireMode): void;
  onDemoted(reason: string): void;
}

/**
 * election/elector.ts, statement for statement, over the fake runtime: the same ticks, the same
 * awaits (each Redis call is one round trip that may time out), the same decisions imported from
 * decisions.ts. broker-state.json is the disk's highestEpoch (fsynced, so it survives anything).
 */
export class SimElector {
  role: 'leader' | 'follower' = 'follower';
  private epoch = 0;
  private leaseValue: string | null = null;
  private deadline = 0;
  private knownLeader: LeaseHolder | null = null;
  private isr: InSyncSet | null = null;
  private isrMissingSince: number | null = null;
  private timer: Timer | null = null;
  private deadlineTimer: Timer | null = null;
  private stopped = false;
  private ticking = false;
  private redisOk = false;
  private isrMissingGeneration = -1;
  /** broker.ts builds the LeaseStore with this command timeout. */
  private readonly cmdMs: number;

  constructor(
    private readonly rt: Runtime,
    private readonly disk: Disk,
    private readonly o: SimElectorOptions,
  ) {
    this.cmdMs = redisCommandTimeoutMs(o.leaseMs, o.renewMs);
  }

  start(): void {
    this.schedule(0);
  }

  /** The events channel said a leader released its lease. */
  onReleased(): void {
    this.schedule(0);
  }

  isLeader(): boolean {
    return this.role === 'leader';
  }

  canWrite(): boolean {
    if (this.o.mutation === 'no-write-deadline') return this.role === 'leader';
    return this.role === 'leader' && this.rt.now() < this.deadline;
  }

  currentEpoch(): number {
    return this.epoch;
  }

  fence(): string | null {
    return this.role === 'leader' ? this.leaseValue : null;
  }

  leader(): LeaseHolder | null {
    return this.role === 'leader' ? { id: this.o.id, url: `sim://${this.o.id}`, epoch: this.epoch } : this.knownLeader;
  }

  async observeEpoch(epoch: number, holder?: LeaseHolder): Promise<void> {
    if (epoch > this.epoch) {
      if (this.role === 'leader') this.demote(`a newer leader epoch ${epoch} exists`);
      this.epoch = epoch;
    }
    if (holder && holder.epoch >= (this.knownLeader?.epoch ?? 0) && this.role === 'follower') this.knownLeader = holder;
    await this.persistEpoch(epoch);
  }

  /** SIGTERM: stop, and a leader releases its lease at once. */
  async stop(): Promise<boolean> {
    this.stopped = true;
    this.timer?.cancel();
    this.deadlineTimer?.cancel();
    const value = this.leaseValue;
    if (this.role === 'leader') this.demote('shutting down');
    if (!value) return false;
    try {
      return await this.rt.redis((r) => r.release(value), this.cmdMs);
    } catch {
      return false;
    }
  }

  private async persistEpoch(epoch: number): Promise<void> {
    if (epoch > this.disk.highestEpoch) this.disk.highestEpoch = epoch;
    await Promise.resolve(); // BrokerState.observe resolves after its write; nothing can run in between here
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.rt.timer(delayMs, () => void this.tick());
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.ticking) return this.schedule(10);
    this.ticking = true;
    let next = followerPollMs(this.o.renewMs);
    try {
      next = this.role === 'leader' ? await this.leaderTick() : await this.followerTick();
      this.redisOk = true;
    } catch (err) {
      if (this.redisOk) this.rt.note(`redis: ${(err as Error).message}`);
      this.redisOk = false;
      if (this.o.mutation !== 'revert-D') this.isrMissingSince = null;
      next = Math.min(next, 250);
    } finally {
      this.ticking = false;
    }
    this.schedule(next);
  }

  private candidacy(): SimCandidacy {
    return { id: this.o.id, highestEpoch: this.disk.highestEpoch, isr: this.disk.lastIsr, ...this.o.candidacy() };
  }

  /** BrokerState.rememberIsr: keep (durably, like the epoch) the newest in-sync set seen. */
  private remember(isr: SimIsr | null): void {
    if (isr) this.disk.lastIsr = newerIsr(this.disk.lastIsr, isr);
  }

  private async leaderTick(): Promise<number> {
    const value = this.leaseValue;
    if (!value) return 0;
    const sentAt = this.rt.now();
    const renewing = this.rt.redis((r) => r.renew(value, this.o.leaseMs), this.cmdMs);
    const side = Promise.all([this.rt.redis((r) => r.register(this.o.id, this.o.leaseMs, null), this.cmdMs), this.rt.redis((r) => r.readLeader(), this.cmdMs)]);
    side.catch(() => {});
    let renewed: boolean;
    try {
      renewed = await renewing;
    } catch (err) {
      if (this.rt.now() >= this.deadline) this.demote(`could not renew the lease in time (${(err as Error).message})`);
      throw err;
    }
    if (this.role !== 'leader' || this.leaseValue !== value) return 0;
    if (!renewed) {
      this.demote('the lease is held by someone else or expired in Redis');
      return 0;
    }
    this.extendDeadline(sentAt);
    const [, { isr }] = await side;
    if (isr) this.isr = isr;
    this.remember(isr);
    return nextRenewDelay(sentAt, this.rt.now(), this.o.renewMs);
  }

  private async followerTick(): Promise<number> {
    const { holder, pttlMs, isr, epochCounter, runId } = await this.rt.redis((r) => r.readLeader(), this.cmdMs);
    this.isr = isr;
    this.remember(isr);
    const t = this.rt.now();
    // The recovery wait counts from the first look at *this* Redis connection: a restart (a
    // reconnect; here Redis's run id stands for LeaseStore.connectionGeneration) or a failed read starts it over.
    const generation = this.o.mutation === 'revert-D' ? this.isrMissingGeneration : runId;
    if (isr || generation !== this.isrMissingGeneration) this.isrMissingSince = null;
    if (!isr) {
      this.isrMissingSince ??= t;
      this.isrMissingGeneration = generation;
    }
    const mayLead = this.o.mayLead();
    const candidacy = isr || !mayLead ? null : this.candidacy();
    await this.rt.redis((r) => r.register(this.o.id, this.o.leaseMs, candidacy), this.cmdMs);
    if (holder) {
      await this.observeEpoch(holder.epoch);
      this.knownLeader = holder;
      return nextLookDelay(pttlMs, this.o.renewMs);
    }
    this.knownLeader = null;
    const candidates = isr ? [] : await this.listCandidates();
    const unclean = this.o.uncleanElection || this.o.mutation === 'any-broker-may-lead';
    const missingFor = this.isrMissingSince === null ? 0 : t - this.isrMissingSince;
    const history = clusterHasHistory(epochCounter, [...candidates, this.candidacy()]) && this.o.mutation !== 'revert-D';
    const wait = recoveryWaitMs(this.o.renewMs, this.o.leaseMs, history);
    // revert-D2: recover as the best-ranked candidate, whatever in-sync sets anyone remembers.
    const forget = this.o.mutation === 'revert-D2';
    const mode = acquireMode({
      self: this.o.id,
      rememberedIsr: forget ? null : this.disk.lastIsr,
      unclean,
      isrMembers: isr ? isr.members : null,
      isrMissingForMs: missingFor,
      recoveryWaitMs: wait,
      candidates: forget ? candidates.map((c) => ({ ...c, isr: null })) : candidates,
    });
    if (!mode) return followerPollMs(this.o.renewMs);
    if (mode !== 'unclean' && !mayLead) return followerPollMs(this.o.renewMs);
    // Above every epoch any live broker has seen, not only ours: an epoch must never be reused.
    const others = this.o.mutation === 'revert-D' ? [] : candidates.map((c) => c.highestEpoch);
    const minEpoch = Math.max(this.disk.highestEpoch, this.epoch, epochCounter, ...others);
    const sentAt = this.rt.now();
    const acquiring = mode;
    const result = await this.rt.redis((r) => r.acquire(this.o.id, this.o.leaseMs, minEpoch, acquiring), this.cmdMs);
    if (!result.won) return followerPollMs(this.o.renewMs);
    await this.persistEpoch(result.epoch);
    this.role = 'leader';
    this.epoch = result.epoch;
    this.leaseValue = result.value;
    this.extendDeadline(sentAt);
    // The script answers the in-sync set it left in place: no second round trip that could fail.
    const isrNow = this.o.mutation === 'revert-B' ? (await this.rt.redis((r) => r.readLeader(), this.cmdMs)).isr : (result.isr ?? null);
    this.isr = isrNow ?? { epoch: result.epoch, members: [this.o.id] };
    this.remember(this.isr);
    this.rt.note(`elected leader with epoch ${result.epoch} (mode ${acquiring}); in-sync set [${this.isr.members.join(', ')}]`);
    this.o.onElected(result.epoch, this.isr, acquiring);
    return nextRenewDelay(sentAt, this.rt.now(), this.o.renewMs);
  }

  /** LeaseStore.listCandidates: SMEMBERS, then MGET — two round trips. */
  private async listCandidates(): Promise<SimCandidacy[]> {
    await this.rt.redis((r) => r.listBrokers(), this.cmdMs);
    return this.rt.redis((r) => r.listCandidates(), this.cmdMs);
  }

  private extendDeadline(sentAt: number): void {
    this.deadline = writableUntil(sentAt, this.o.leaseMs);
    this.deadlineTimer?.cancel();
    this.deadlineTimer = this.rt.timer(Math.max(0, this.deadline - this.rt.now()) + 1, () => {
      if (this.role === 'leader' && this.rt.now() >= this.deadline) this.demote('lease deadline passed without a successful renew');
    });
  }

  private demote(reason: string): void {
    if (this.role !== 'leader') return;
    this.role = 'follower';
    this.leaseValue = null;
    this.deadline = 0;
    this.deadlineTimer?.cancel();
    this.knownLeader = null;
    this.rt.note(`stepped down as leader: ${reason}`);
    this.o.onDemoted(reason);
    this.schedule(0);
  }
}
