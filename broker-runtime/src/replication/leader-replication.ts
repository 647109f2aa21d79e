import type { Logger } from '../logger.js';
import type { InSyncSet, IsrWrite } from '../election/lease-store.js';
import type { TimePorts, TimerHandle } from '../ports/clock.js';
import type { LogManager, PartitionLog } from '../log/types.js';
import { FollowerSession } from './follower-session.js';
import type { FramePoster } from './transport.js';
import type { ReplicationRules } from './rules.js';
import type { HighWatermarkWaiters } from './hwm-waiters.js';
import { laggingFollowers, mayRejoin, nextHighWatermark } from './isr.js';

/** A follower refusing connections this long is out of the in-sync set. */
const REFUSED_LIMIT_MS = 200;

/** What the leader needs of the lease store (LeaseStore in production): each call one Redis round trip. */
export interface ReplicationStore {
  /** Every broker that ever registered; `alive` while its registration has not expired. */
  listBrokers(): Promise<{ id: string; url: string | null; alive: boolean }[]>;
  /**
   * Write the in-sync set, fenced by the lease value: `lease-lost` when the lease is no longer ours,
   * `not-replicated` when no Redis replica acknowledged it in time (with --redis-wait-replicas).
   */
  writeIsr(leaseValue: string, isr: InSyncSet): Promise<IsrWrite>;
}

export interface LeaderReplicationOptions {
  logs: LogManager;
  store: ReplicationStore;
  epoch: number;
  /** This leadership's frame key: every frame is signed with it (frame-auth.ts). */
  frameKey: Buffer;
  self: { id: string; url: string };
  /** Carries frames to the followers (shared across leaderships: it holds the TLS material and pools). */
  transport: FramePoster;
  /** Monotonic clock and timers (systemTime in production). */
  time: TimePorts;
  initialIsr: string[];
  /** In-sync replicas (leader included) the topic's commits need; read at every decision, so a config change applies at once. */
  minInsync(topic: string): number;
  replicaLagMs: number;
  renewMs: number;
  /** The lease value while we hold it (fences every in-sync set write), else null. */
  fence(): string | null;
  /** False once the lease may have run out: then nothing more commits. */
  canWrite(): boolean;
  metaVersion(): string;
  commits: HighWatermarkWaiters;
  reads: HighWatermarkWaiters;
  onStaleEpoch(epoch: number): void;
  onIsrChange(members: string[], change: 'shrink' | 'expand', brokerId: string): void;
  /** Remember an in-sync set durably (a larger one before it is written, a smaller one after). */
  rememberIsr(isr: InSyncSet): Promise<void>;
  /** The write number of the in-sync set this leadership started from. */
  initialIsrVersion: number;
  log: Logger;
  /** Empty (the default) outside the simulator. */
  rules?: ReplicationRules;
}

/**
 * Everything a leader does for replication: one FollowerSession per other broker, the in-sync
 * set (recorded in Redis, fenced by the lease, before it takes effect), and the high-water mark.
 *
 * Commits wait for the in-sync set *plus* followers being added (so the moment Redis lists a new
 * member it already has every committed record), and keep counting a follower being removed until
 * Redis has recorded its removal.
 */
export class LeaderReplication {
  private readonly sessions = new Map<string, FollowerSession>();
  private readonly isr: Set<string>;
  private readonly joining = new Set<string>();
  private readonly leaving = new Set<string>();
  private isrChanges: Promise<void> = Promise.resolve();
  private timer: TimerHandle | null = null;
  private lastDiscovery = 0;
  private stopped = false;
  private readonly metaWaiters: { version: string; resolve: () => void }[] = [];

  /** Write number of the last in-sync set written (or found) in this leadership. */
  private isrVersion: number;
  /** In-sync set changes already warned about as not acknowledged by Redis replicas. */
  private readonly unreplicatedWarned = new Set<string>();

  constructor(private readonly o: LeaderReplicationOptions) {
    this.isrVersion = o.initialIsrVersion;
    this.isr = new Set(o.initialIsr.includes(o.self.id) ? o.initialIsr : [...o.initialIsr, o.self.id]);
  }

  start(): void {
    void this.discover();
    this.timer = this.o.time.timers.every(Math.min(100, this.o.renewMs), () => this.tick());
    for (const log of this.o.logs.all()) this.recompute(log);
  }

  stop(err: Error): void {
    this.stopped = true;
    this.timer?.cancel();
    for (const s of this.sessions.values()) s.stop();
    this.sessions.clear();
    this.o.commits.failAll(err);
    for (const w of this.metaWaiters.splice(0)) w.resolve();
  }

  /** False once this leadership ended: nothing appended now will be committed by it. */
  isActive(): boolean {
    return !this.stopped;
  }

  inSyncMembers(): string[] {
    return [...this.isr].sort();
  }

  inSyncCount(): number {
    return this.isr.size;
  }

  /** Brokers replicating the leader's logs, itself included: every follower it has a session with. */
  replicaCount(): number {
    return this.sessions.size + (this.sessions.has(this.o.self.id) ? 0 : 1);
  }

  /** Records were appended to the leader's log: try to commit, and push them out. */
  afterAppend(log: PartitionLog): void {
    this.recompute(log);
    for (const s of this.sessions.values()) s.wake(true);
  }

  /** Topic metadata changed: resolves once every follower counted for commits has it. */
  waitMetadata(version: string): Promise<void> {
    for (const s of this.sessions.values()) s.wake();
    if (this.metadataCommitted()) return Promise.resolve();
    return new Promise((resolve) => this.metaWaiters.push({ version, resolve }));
  }

  replicaProgress(): { id: string; partitions: Record<string, number>; lastCaughtUpMsAgo: number }[] {
    const now = this.o.time.clock.now();
    return [...this.sessions.values()].map((s) => {
      const partitions: Record<string, number> = {};
      for (const log of this.o.logs.all()) partitions[`${log.topic}/${log.partition}`] = s.matched(log.topic, log.partition);
      return { id: s.id, partitions, lastCaughtUpMsAgo: Math.round(now - s.lastCaughtUpAt) };
    });
  }

  private commitFollowers(): FollowerSession[] {
    const out: FollowerSession[] = [];
    for (const id of [...this.isr, ...this.joining]) {
      if (id === this.o.self.id) continue;
      const s = this.sessions.get(id);
      // An in-sync member we cannot reach at all still holds commits back until it is removed.
      out.push(s ?? this.ensureSession(id, null));
    }
    return out;
  }

  private recompute(log: PartitionLog): void {
    if (this.stopped || !this.o.canWrite()) return;
    const current = log.highWatermark();
    const next = nextHighWatermark({
      current,
      leaderEnd: log.logEndOffset(),
      followerEnds: this.o.rules?.hwmIgnoresFollowers ? [] : this.commitFollowers().map((s) => s.matched(log.topic, log.partition)),
      inSyncCount: this.isr.size,
      minInsync: this.o.minInsync(log.topic),
    });
    if (next > current) {
      log.setHighWatermark(next);
      this.o.commits.notify(log);
      this.o.reads.notify(log);
      for (const s of this.sessions.values()) s.wake();
    }
  }

  private metadataCommitted(): boolean {
    return this.commitFollowers().every((s) => s.metadataInSync());
  }

  private onProgress(session: FollowerSession, logs: PartitionLog[]): void {
    if (this.stopped) return;
    for (const log of logs) this.recompute(log);
    if (this.metaWaiters.length && this.metadataCommitted()) for (const w of this.metaWaiters.splice(0)) w.resolve();
    if (!this.isr.has(session.id) && !this.joining.has(session.id)) this.maybeExpand(session);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.o.time.clock.now();
    const followers = [...this.isr].filter((id) => id !== this.o.self.id);
    const lagging = laggingFollowers(followers, (id) => this.sessions.get(id)?.lastCaughtUpAt ?? 0, now, this.o.replicaLagMs);
    for (const id of lagging) this.shrink(id, this.lagReason(id, now));
    // A follower whose port refuses connections is not running: waiting out the lag limit would
    // only stall every produce. Removing a member is always safe; it rejoins once caught up.
    for (const id of followers) {
      const refusedMs = this.sessions.get(id)?.refusedForMs() ?? 0;
      if (refusedMs >= REFUSED_LIMIT_MS) this.shrink(id, `its port has refused connections for ${Math.round(refusedMs)} ms`);
    }
    if (now - this.lastDiscovery >= this.o.renewMs) void this.discover();
  }

  /** Brokers whose registration was alive at the last discovery (null before the first). */
  private registered: Set<string> | null = null;

  private async discover(): Promise<void> {
    this.lastDiscovery = this.o.time.clock.now();
    try {
      const brokers = await this.o.store.listBrokers();
      this.registered = new Set(brokers.filter((b) => b.alive).map((b) => b.id));
      for (const b of brokers) {
        if (b.id === this.o.self.id || this.stopped) continue;
        if (b.alive && b.url) this.ensureSession(b.id, b.url);
        // Its liveness registration expired (crashed, paused, cut off): it is not replicating.
        else if (!b.alive && this.isr.has(b.id)) this.shrink(b.id, 'its registration in Redis expired (stopped, crashed, paused or cut off from Redis)');
      }
    } catch (err) {
      this.o.log('debug', `broker discovery failed: ${(err as Error).message}`);
    }
  }

  private ensureSession(id: string, url: string | null): FollowerSession {
    let s = this.sessions.get(id);
    if (s) {
      if (url) {
        s.url = url;
        s.start(); // a session made before the broker's URL was known starts once it is
      }
      return s;
    }
    s = new FollowerSession(id, url ?? 'http://127.0.0.1:1', {
      logs: this.o.logs,
      epoch: this.o.epoch,
      frameKey: this.o.frameKey,
      self: this.o.self,
      metaVersion: this.o.metaVersion,
      heartbeatMs: Math.max(50, Math.min(this.o.renewMs, this.o.replicaLagMs / 4)),
      requestTimeoutMs: Math.max(500, Math.min(this.o.replicaLagMs, 5000)),
      transport: this.o.transport,
      time: this.o.time,
      onProgress: (session, logs) => this.onProgress(session, logs),
      onStaleEpoch: (epoch) => this.o.onStaleEpoch(epoch),
      log: this.o.log,
      rules: this.o.rules ?? {},
    });
    this.sessions.set(id, s);
    if (url) s.start();
    return s;
  }

  private maybeExpand(s: FollowerSession): void {
    if (!s.hasAnswered()) return;
    // Only a broker whose registration is alive in Redis: answers are not signed, and one whose
    // registration expired (stopped, crashed) is not what answers at its address. A program that
    // took its port answered "appended" to every frame and was let back in, so records were
    // acknowledged as replicated to a broker that held none of them.
    if (this.registered !== null && !this.registered.has(s.id)) return;
    const partitions = this.o.logs.all().map((log) => ({ followerEnd: s.matched(log.topic, log.partition), highWatermark: log.highWatermark() }));
    if (!mayRejoin(partitions, s.metadataInSync())) return;
    this.joining.add(s.id);
    this.changeIsr('expand', s.id);
  }

  /**
   * Clean shutdown: take this leader out of the in-sync set (fenced by its still-valid lease) so the
   * next leader does not wait for it. Safe: every committed record is on every other member too.
   * Resolves false when there is nobody else in sync (then we stay, or nobody could lead).
   */
  async leave(): Promise<boolean> {
    const others = [...this.isr].filter((id) => id !== this.o.self.id && !this.leaving.has(id));
    const fence = this.o.fence();
    if (others.length === 0 || !fence) return false;
    await this.isrChanges;
    try {
      const doc = { epoch: this.o.epoch, version: ++this.isrVersion, members: others.sort() };
      const ok = (await this.o.store.writeIsr(fence, doc)) === 'recorded';
      if (ok) await this.o.rememberIsr(doc);
      return ok;
    } catch {
      return false;
    }
  }

  /**
   * Why a lagging follower leaves, in the words an operator needs on a slow link: how long since it
   * was last caught up, against the limit, and how far behind it is now.
   */
  private lagReason(id: string, now: number): string {
    const s = this.sessions.get(id);
    const since = s ? `not caught up for ${Math.round(now - s.lastCaughtUpAt)} ms` : 'no replication session';
    let behind = 0;
    if (s) for (const log of this.o.logs.all()) behind += Math.max(0, log.logEndOffset() - s.matched(log.topic, log.partition));
    return `${since}, longer than the replica lag (--replica-lag-seconds ${this.o.replicaLagMs / 1000}); ${behind} record(s) behind; it rejoins once caught up`;
  }

  private shrink(id: string, why: string): void {
    if (!this.isr.has(id) || this.leaving.has(id)) return;
    this.leaving.add(id);
    this.changeIsr('shrink', id, why);
  }

  private changeIsr(change: 'shrink' | 'expand', id: string, why?: string): void {
    this.isrChanges = this.isrChanges.then(async () => {
      if (this.stopped) return;
      const fence = this.o.fence();
      if (!fence) return;
      const members = new Set(this.isr);
      if (change === 'expand') members.add(id);
      else members.delete(id);
      try {
        const doc = { epoch: this.o.epoch, version: ++this.isrVersion, members: [...members].sort() };
        // A larger set is remembered before Redis has it, a smaller one after: whatever this broker
        // remembers is never smaller than what Redis may hold.
        if (change === 'expand') await this.o.rememberIsr(doc);
        const written = await this.o.store.writeIsr(fence, doc);
        if (written === 'lease-lost') return this.o.log('warn', `could not record the in-sync set change (${change} ${id}): lease lost`);
        if (written === 'not-replicated') {
          // The master has the new set, its replicas may not: a failover could bring back the old
          // one. Act on the larger of the two — count a new member, keep a leaving one — and let
          // the next check try again.
          // One warning per change until one is recorded (the next check tries again, every lag period).
          const what = `${change} ${id}`;
          this.o.log(this.unreplicatedWarned.has(what) ? 'debug' : 'warn', `in-sync set change (${what}) not acknowledged by enough Redis replicas; acting on the larger set`);
          this.unreplicatedWarned.add(what);
          if (change === 'expand') this.isr.add(id);
          return;
        }
        this.unreplicatedWarned.clear();
        if (change === 'shrink') await this.o.rememberIsr(doc);
        if (change === 'expand') this.isr.add(id);
        else this.isr.delete(id);
        this.o.log('info', `in-sync set ${change === 'expand' ? 'expanded with' : 'shrank without'} ${id}: [${this.inSyncMembers().join(', ')}]${why ? ` — ${why}` : ''}`, 'isr.changed', {
          change,
          broker_id: id,
          members: this.inSyncMembers().join(','),
          ...(why ? { reason: why } : {}),
        });
        this.o.onIsrChange(this.inSyncMembers(), change, id);
        for (const log of this.o.logs.all()) this.recompute(log);
      } catch (err) {
        this.o.log('warn', `could not record the in-sync set change (${change} ${id}): ${(err as Error).message}`);
        // Unknown outcome: Redis may list the new member already. Keep counting it for commits
        // (counting more members is always safe) until a shrink is recorded.
        if (change === 'expand' && !this.o.rules?.dropUnknownExpansion) this.isr.add(id);
      } finally {
        if (change === 'expand') this.joining.delete(id);
        else this.leaving.delete(id);
      }
    });
  }
}
