import type { Logger } from '../logger.js';
import { EventEmitter } from 'node:events';
import type { Clock, TimePorts, TimerHandle, Timers } from '../ports/clock.js';
import { isStorableEpoch } from './epoch-range.js';
import { MAX_LEADER_EPOCH } from '../log/record-codec.js';
import { newFrameKey } from '../replication/frame-auth.js';
import { describeRedisFailure } from './redis-failure.js';
import { acquireDecision, clusterHasHistory, recoveryWaitingFor, followerPollMs, hastyRecoveryWaitMs, REDIS_RETRY_MS, leaseTooShortForRtt, nextLookDelay, nextRenewDelay, recoveryWaitMs } from './decisions.js';
import { epochFloor, initialLease, initialRecoveryClock, leaseStep, mayWrite, missingForMs, recoveryClockAfterRead, type LeaseEvent, type LeaseState, type RecoveryClock } from './lease-machine.js';
import type { AcquireMode, BrokerRegistration, Candidacy, InSyncSet, LeaseHolder } from './lease-store.js';
import type { ElectionMemory, ElectionStore, ElectorRules } from './ports.js';
import { RefusalLog } from './refusal-log.js';
import type { KafkaAddress } from '../kafka/backend.js';

export interface ElectorOptions {
  id: string;
  url: string;
  leaseMs: number;
  renewMs: number;
  uncleanElection: boolean;
  /** What this broker's logs look like, for recovery elections. */
  candidacy: () => Omit<Candidacy, 'id' | 'highestEpoch'>;
  /**
   * Null while this broker's logs may lead; else why not, and what would end it: it knows its logs
   * miss committed records (an unclean partition, until re-fetched from a leader).
   */
  whyNotLead: () => string | null;
  /**
   * Why this broker's logs miss records the cluster committed, as far as Redis shows (a log ending
   * below a mirrored high-water mark: election/mirrored-commits.ts), or null. Asked just before
   * taking the lease other than by unclean election; a broker it answers for does not lead.
   */
  missingCommitted?: (isrMembers: string[] | null) => Promise<string | null>;
  /** Added to this broker's registration (the `short` report of missingCommitted). */
  registrationExtra?: () => Partial<BrokerRegistration>;
  /** False while this broker's storage refuses writes: it must not take the lease, not even by unclean election. */
  storageWritable: () => boolean;
  log: Logger;
  /** The Redis URL as it may be shown in logs (no password). */
  redisDisplay: string;
  /** The cluster id (--cluster), for the lines that name where this broker looks. */
  cluster?: string;
  /** This broker's Kafka listener, registered with its URL so other brokers can name it in Kafka Metadata. */
  kafka?: KafkaAddress;
}

export interface ElectorEvents {
  /** This broker won the lease with `epoch`; `isr` is the in-sync set recorded in Redis at that moment. */
  elected: [epoch: number, isr: InSyncSet, mode: AcquireMode];
  /** This broker stopped being leader (lease lost, could not renew, a newer epoch seen, shutdown). */
  demoted: [reason: string];
  /** The known leader changed (including to none). */
  leader: [holder: LeaseHolder | null];
}

/**
 * Runs this broker's side of the lease election: renews while leader, watches and competes while
 * follower. Writes are allowed only while `canWrite()` — the local, monotonic deadline that
 * ends before the lease can have expired in Redis.
 */
export class Elector extends EventEmitter<ElectorEvents> {
  /** Role, epoch and write deadline: changed only by lease-machine.ts's leaseStep (see apply). */
  private lease: LeaseState = initialLease;
  private leaseValue: string | null = null;
  /** This leadership's frame key (replication/frame-auth.ts); null unless leader. */
  private frameKeyBytes: Buffer | null = null;
  private knownLeader: LeaseHolder | null = null;
  /** The last leader this broker knew of (itself included), kept when it no longer knows one. */
  private lastLeaderSeen: LeaseHolder | null = null;
  private isr: InSyncSet | null = null;
  private recovery: RecoveryClock = initialRecoveryClock;
  private redisOk = false;
  /** The reason of the current run of Redis failures (null while Redis answers), and its length. */
  private redisProblem: string | null = null;
  private redisFailures = 0;
  private timer: TimerHandle | null = null;
  private deadlineTimer: TimerHandle | null = null;
  private stopped = false;
  private ticking = false;
  /** Why this broker does not take a free lease: told once per change of reason. */
  private readonly refusals: RefusalLog;
  /** The in-sync members a recovery waits for (none of them registered here), or null; warned once per run. */
  private waitingFor: string[] | null = null;
  /** The slowest renew round trip since the last warning about it (ms); 0 when the lease has room. */
  private slowRttWarnedAt = 0;

  private readonly clock: Clock;
  private readonly timers: Timers;

  /**
   * `store` is the lease store (Redis), `state` what survives restarts (broker-state.json), `time`
   * the clock and timers (systemTime in production); `rules` stays empty outside the simulator.
   */
  constructor(
    private readonly store: ElectionStore,
    private readonly state: ElectionMemory,
    private readonly opts: ElectorOptions,
    time: TimePorts,
    private readonly rules: ElectorRules = {},
  ) {
    super();
    this.clock = time.clock;
    this.timers = time.timers;
    this.refusals = new RefusalLog(opts.log, opts.leaseMs);
  }

  private now(): number {
    return this.clock.now();
  }

  start(): void {
    void this.store.subscribeReleases(() => this.schedule(0));
    this.schedule(0);
  }

  isLeader(): boolean {
    return this.lease.role === 'leader';
  }

  /** Leader, and its lease certainly still valid on our own clock. */
  canWrite(): boolean {
    if (this.rules.ignoreWriteDeadline) return this.lease.role === 'leader';
    return mayWrite(this.lease, this.now());
  }

  currentEpoch(): number {
    return this.lease.epoch;
  }

  leader(): LeaseHolder | null {
    return this.isLeader() ? { id: this.opts.id, url: this.opts.url, epoch: this.lease.epoch } : this.knownLeader;
  }

  /** The last leader this broker knew of, even if it knows none now (cut from Redis, mid-election). */
  lastKnownLeader(): LeaseHolder | null {
    return this.leader() ?? this.lastLeaderSeen;
  }

  leaseMsLeft(): number | null {
    return this.isLeader() ? Math.max(0, Math.round(this.lease.deadline - this.now())) : null;
  }

  lastIsr(): InSyncSet | null {
    return this.isr;
  }

  redisReachable(): boolean {
    return this.redisOk;
  }

  /** The lease value, for writes fenced by it (in-sync set, mirrors). Null unless leader. */
  fence(): string | null {
    return this.isLeader() ? this.leaseValue : null;
  }

  /** The key this leadership signs replication frames with; null unless leader. */
  frameKey(): Buffer | null {
    return this.isLeader() ? this.frameKeyBytes : null;
  }

  /** An epoch seen elsewhere (replication from a leader): remember it; a newer one deposes us. */
  async observeEpoch(epoch: number, holder?: LeaseHolder): Promise<void> {
    if (!isStorableEpoch(epoch)) {
      this.opts.log('warn', `ignored leader epoch ${epoch}: outside the range a log can store`);
      return;
    }
    this.apply({ type: 'epoch-seen', epoch });
    if (holder && holder.epoch >= (this.knownLeader?.epoch ?? 0) && !this.isLeader()) this.setKnownLeader(holder);
    await this.state.observe(epoch);
  }

  /** Stop; a leader releases its lease at once so another broker takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.deadlineTimer?.cancel();
    const value = this.leaseValue;
    this.apply({ type: 'step-down', reason: 'shutting down' });
    if (value) {
      try {
        await this.store.release(value);
        this.opts.log('info', 'released the leader lease');
      } catch (err) {
        this.opts.log('warn', `could not release the lease: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Give up leadership now and release the lease, so another in-sync broker takes over without
   * waiting for it to expire (a leader that cannot write its log). Does nothing unless leader.
   */
  async stepDown(reason: string): Promise<void> {
    const value = this.leaseValue;
    if (!this.isLeader() || !value) return;
    this.apply({ type: 'step-down', reason });
    try {
      await this.store.release(value);
      this.opts.log('info', 'released the leader lease');
    } catch (err) {
      this.opts.log('warn', `could not release the lease (it expires by itself): ${(err as Error).message}`);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.timers.after(delayMs, () => void this.tick());
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.ticking) return this.schedule(10);
    this.ticking = true;
    let next = followerPollMs(this.opts.renewMs);
    try {
      next = this.isLeader() ? await this.leaderTick() : await this.followerTick();
      if (this.redisProblem !== null) {
        this.opts.log('info', `redis: reachable again after ${this.redisFailures} failed attempt(s) (last: ${this.redisProblem})`);
        this.redisProblem = null;
        this.redisFailures = 0;
      }
      this.redisOk = true;
    } catch (err) {
      // The first failure and every change of reason, from start-up on (a broker that never reached
      // Redis used to log nothing at all): refused port, protected mode, wrong password, timeouts.
      const why = describeRedisFailure((err as Error).message, this.store.connectionProblem());
      this.redisFailures++;
      if (why !== this.redisProblem) {
        this.opts.log('warn', `redis (${this.opts.redisDisplay}): ${why}${this.redisFailures > 1 ? ` (${this.redisFailures} failed attempts so far)` : ''}`);
        this.redisProblem = why;
      }
      this.redisOk = false;
      if (!this.rules.hastyRecovery) this.recovery = { ...this.recovery, since: null };
      next = Math.min(next, REDIS_RETRY_MS);
    } finally {
      this.ticking = false;
    }
    this.schedule(next);
  }

  private candidacy(): Candidacy {
    return { id: this.opts.id, highestEpoch: this.state.highestEpoch(), isr: this.state.lastIsr(), ...this.opts.candidacy() };
  }

  private registration(): BrokerRegistration {
    const base = this.opts.kafka ? { id: this.opts.id, url: this.opts.url, kafka: this.opts.kafka } : { id: this.opts.id, url: this.opts.url };
    return this.opts.registrationExtra ? { ...this.opts.registrationExtra(), ...base } : base;
  }

  private async leaderTick(): Promise<number> {
    const value = this.leaseValue;
    if (!value) return 0;
    const sentAt = this.now();
    // The registration and the in-sync set read go out right behind the renew (one connection
    // pipelines them): one round trip per period, and the renew never waits behind them.
    const renewing = this.store.renew(value, this.opts.leaseMs);
    const side = Promise.all([this.store.register(this.registration(), this.opts.leaseMs, null), this.store.readLeader()]);
    side.catch(() => {}); // awaited below once the renew is decided; a failure there is reported then
    let renewed: boolean;
    try {
      renewed = await renewing;
    } catch (err) {
      this.apply({ type: 'renew-failed', now: this.now(), why: (err as Error).message });
      throw err;
    }
    if (!this.isLeader() || this.leaseValue !== value) return 0;
    if (!renewed) {
      this.apply({ type: 'renew-refused' });
      return 0;
    }
    this.apply({ type: 'renewed', sentAt });
    this.checkRoundTrip(this.now() - sentAt);
    const [, { isr }] = await side;
    if (isr) {
      this.isr = isr;
      await this.state.rememberIsr(isr);
    }
    return nextRenewDelay(sentAt, this.now(), this.opts.renewMs);
  }

  /** One warning when the Redis round trip leaves the lease too little room, one when it is fine again. */
  private checkRoundTrip(rttMs: number): void {
    const { leaseMs, renewMs } = this.opts;
    if (leaseTooShortForRtt(rttMs, leaseMs, renewMs)) {
      if (this.slowRttWarnedAt === 0) {
        this.opts.log('warn', `the Redis round trip took ${Math.round(rttMs)} ms: too slow for a ${leaseMs} ms lease renewed every ${renewMs} ms; the leader may lose its lease without a fault. Raise --lease-seconds (or lower --renew-seconds) so that renew + 2 × round trip stays below the lease (README: "Choosing lease and renew")`);
      }
      this.slowRttWarnedAt = Math.max(this.slowRttWarnedAt, rttMs);
    } else if (this.slowRttWarnedAt > 0 && rttMs * 2 < this.slowRttWarnedAt) {
      this.opts.log('info', `the Redis round trip is back to ${Math.round(rttMs)} ms (was up to ${Math.round(this.slowRttWarnedAt)} ms)`);
      this.slowRttWarnedAt = 0;
    }
  }

  private async followerTick(): Promise<number> {
    const { holder, pttlMs, isr, epochCounter } = await this.store.readLeader();
    this.isr = isr;
    if (isr) await this.state.rememberIsr(isr);
    const t = this.now();
    // The recovery wait counts from the first look at *this* Redis connection: a Redis restart
    // (a reconnect) or a failed read (tick() clears it) starts it over.
    const generation = this.rules.hastyRecovery ? this.recovery.generation : this.store.connectionGeneration();
    this.recovery = recoveryClockAfterRead(this.recovery, isr !== null, generation, t);
    const unleadable = this.opts.whyNotLead();
    await this.store.register(this.registration(), this.opts.leaseMs, isr || unleadable !== null ? null : this.candidacy());
    if (holder) {
      await this.observeEpoch(holder.epoch);
      this.setKnownLeader(holder);
      this.refusals.leaseHeld(`${holder.id}@${holder.epoch}`, this.now());
      this.waitingFor = null;
      return nextLookDelay(pttlMs, this.opts.renewMs);
    }
    this.setKnownLeader(null);
    const listed = isr ? { candidates: [], stated: { highestEpoch: 0, isr: null } } : await this.store.listCandidates();
    const candidates = listed.candidates;
    // The old rules (revert-D, D2, D3) came before the stated history: they decide on the live candidacies only.
    const stated = this.rules.hastyRecovery || this.rules.ignoreRememberedIsr || this.rules.forgetStatedHistory ? null : listed.stated;
    const history = clusterHasHistory(epochCounter, [...candidates, this.candidacy()], stated);
    const forget = this.rules.ignoreRememberedIsr === true;
    const waitMs = this.rules.hastyRecovery ? hastyRecoveryWaitMs(this.opts.renewMs) : recoveryWaitMs(this.opts.renewMs, this.opts.leaseMs, history);
    const decision = acquireDecision({
      self: this.opts.id,
      unclean: this.opts.uncleanElection,
      isrMembers: isr ? isr.members : null,
      recordedIsr: isr,
      rememberedIsr: forget ? null : this.state.lastIsr(),
      isrMissingForMs: missingForMs(this.recovery, t),
      recoveryWaitMs: waitMs,
      candidates: forget ? candidates.map((c) => ({ ...c, isr: null })) : candidates,
      statedIsr: forget ? null : (stated?.isr ?? null),
    });
    const mode = decision.mode;
    const waiting = !mode && !forget && isr === null && missingForMs(this.recovery, t) >= waitMs;
    this.noteRecoveryWait(waiting ? recoveryWaitingFor(this.opts.id, this.state.lastIsr(), candidates, stated?.isr ?? null) : null);
    // Every refusal below is told once per change of reason (RefusalLog), with what would end it.
    if (!mode) return this.refuse(`not taking the lease: ${decision.why}`);
    if (await this.store.legacyLeaseHeld()) {
      return this.refuse('not taking the lease: a broker of an older YAK version holds it under the key names before hash tags; stop every broker of the cluster, then start them all on this version (README: "Redis for a cluster")', 'error');
    }
    if (!this.opts.storageWritable()) {
      return this.refuse('not taking the lease: the data folder refuses writes (/health `storage` says why); this broker may lead again once a write there succeeds', 'warn');
    }
    if (mode !== 'unclean' && unleadable !== null) return this.refuse(`not taking the lease: ${unleadable}`);
    if (mode !== 'unclean' && this.opts.missingCommitted) {
      const missing = await this.opts.missingCommitted(isr ? isr.members : null);
      if (missing !== null) return this.refuse(`not taking the lease: ${missing}`, 'warn');
    }
    const minEpoch = epochFloor({
      ownHighest: this.state.highestEpoch(),
      known: this.lease.epoch,
      epochCounter,
      ownLastLogEpoch: this.opts.candidacy().lastLogEpoch,
      candidates: this.rules.hastyRecovery ? [] : candidates,
      statedEpoch: stated?.highestEpoch ?? 0,
    });
    const sentAt = this.now();
    const frameKey = newFrameKey();
    const result = await this.store.acquire(this.opts.id, this.opts.url, this.opts.leaseMs, minEpoch, mode, frameKey);
    if (!result.won) {
      // 'held': another broker was quicker, no refusal. Not replicated: the cluster stays
      // leaderless until a Redis replica answers — worth a warning.
      if (result.reason === 'held') this.opts.log('debug', 'did not take the lease: held');
      else this.refuse(`did not take the lease: ${explainAcquireRefusal(result.reason)}`, result.notReplicated === true ? 'warn' : 'info');
      return followerPollMs(this.opts.renewMs);
    }
    this.refusals.won();
    // Durable before acting on it: a restart must never reuse this epoch.
    await this.state.observe(result.epoch);
    this.leaseValue = result.value;
    this.frameKeyBytes = Buffer.from(frameKey, 'hex');
    this.apply({ type: 'won', epoch: result.epoch, sentAt });
    // The script answers the in-sync set it left in place: no second round trip that could fail.
    const isrNow = this.rules.isrReadAfterAcquire ? (await this.store.readLeader()).isr : result.isr;
    this.isr = isrNow ?? { epoch: result.epoch, members: [this.opts.id] };
    await this.state.rememberIsr(this.isr);
    this.opts.log('info', `elected leader with epoch ${result.epoch} (mode ${mode}); in-sync set [${this.isr.members.join(', ')}]`, 'leader.elected', {
      epoch: result.epoch,
      mode,
      isr: this.isr.members.join(','),
    });
    this.lastLeaderSeen = { id: this.opts.id, url: this.opts.url, epoch: result.epoch };
    this.emit('leader', this.leader());
    this.emit('elected', result.epoch, this.isr, mode);
    // The lease runs from when the acquire was sent: the first renew is due a renew period after that.
    this.checkRoundTrip(this.now() - sentAt);
    return nextRenewDelay(sentAt, this.now(), this.opts.renewMs);
  }

  /** Tell why the free lease is not taken (once per change of reason), and look again at the next poll. */
  private refuse(line: string, level: 'info' | 'warn' | 'error' = 'info'): number {
    this.refusals.refuse(line, level);
    return followerPollMs(this.opts.renewMs);
  }

  /** Feed one event to the lease machine, then perform its effects. */
  private apply(event: LeaseEvent): void {
    const { state, effects } = leaseStep(this.lease, event, this.opts.leaseMs);
    this.lease = state;
    for (const effect of effects) {
      if (effect.type === 'arm-deadline') this.armDeadline(effect.at);
      else this.demote(effect.reason);
    }
  }

  /** Fires only if no renew succeeds before the deadline: step down even while Redis hangs. */
  private armDeadline(at: number): void {
    this.deadlineTimer?.cancel();
    this.deadlineTimer = this.timers.after(Math.max(0, at - this.now()) + 1, () => this.apply({ type: 'deadline-check', now: this.now() }));
  }

  /** The lease machine demoted this broker: drop what only a leader holds and tell the broker. */
  private demote(reason: string): void {
    this.leaseValue = null;
    this.frameKeyBytes = null;
    this.deadlineTimer?.cancel();
    this.knownLeader = null;
    this.opts.log('warn', `stepped down as leader: ${reason}`, 'leader.stepped_down', { reason });
    this.emit('demoted', reason);
    this.emit('leader', null);
    this.schedule(0);
  }

  /**
   * What a leaderless recovery waits for: the members of the last in-sync set not registered in
   * this Redis namespace. Said once per run at warn level (and in /health through recoveryWait()):
   * before, a broker with a mistyped --cluster waited here for ever with /health "ok".
   */
  private noteRecoveryWait(members: string[] | null): void {
    const was = this.waitingFor;
    this.waitingFor = members;
    if (members === null || (was !== null && was.join() === members.join())) return;
    this.opts.log('warn', this.recoveryWait()!, 'election.recovery-waiting', { waiting_for: members.join(',') });
  }

  /** Why no broker leads while Redis holds no in-sync set, or null. */
  recoveryWait(): string | null {
    if (!this.waitingFor || this.knownLeader) return null;
    const where = `--redis ${this.opts.redisDisplay}${this.opts.cluster ? ` --cluster ${this.opts.cluster}` : ''}`;
    return (
      `no leader: Redis holds no in-sync set for this cluster (${where}), and no broker may lead until every member of the last one is back: waiting for ${this.waitingFor.join(', ')} ` +
      '(not registered here). Start them; if they are running, this broker\'s --redis (its database number too) or --cluster differs from theirs (or this Redis lost its data and they use another): give every broker the same'
    );
  }

  private setKnownLeader(holder: LeaseHolder | null): void {
    const prev = this.knownLeader;
    if (prev?.id === holder?.id && prev?.epoch === holder?.epoch) return;
    this.knownLeader = holder;
    if (holder) this.lastLeaderSeen = holder;
    this.emit('leader', holder);
  }
}

/** The acquire script's short answers (scripts.ts ACQUIRE_LUA) in words, with what would end them; others pass as they are. */
function explainAcquireRefusal(reason: string): string {
  switch (reason) {
    case 'not-in-sync':
      return 'the in-sync set in Redis changed since it was read and leaves this broker out (it looks again at the next poll)';
    case 'no-isr':
      return 'the in-sync set in Redis is gone since it was read (Redis lost its data?); a recovery election follows once every live broker has stated its candidacy';
    case 'epochs-exhausted':
      return `the next epoch would pass the largest a log can store (${MAX_LEADER_EPOCH}): this cluster's epochs are used up, and no broker can lead it again`;
    default:
      return reason;
  }
}
