import { laggingFollowers, mayRejoin, nextHighWatermark } from '../../broker-runtime/src/replication/isr.js';
import type { Mutation } from './config.js';
import type { SimLog } from './disk.js';
import type { FakeRedis, SimIsr } from './redis.js';
import type { Runtime, Timer } from './runtime.js';
import { SimFollowerSession } from './session.js';
import type { SimWaiters } from './waiters.js';

/** A follower refusing connections this long is out of the in-sync set (leader-replication.ts). */
const REFUSED_LIMIT_MS = 200;

export interface SimLeaderOptions {
  logs: SimLog[];
  epoch: number;
  self: string;
  initialIsr: SimIsr;
  minInsync: number;
  replicaLagMs: number;
  renewMs: number;
  maxEntries: number;
  fence(): string | null;
  canWrite(): boolean;
  commits: SimWaiters;
  onStaleEpoch(epoch: number): void;
  onIsrChange(members: string[]): void;
  /** BrokerState.rememberIsr: a larger set before it is written, a smaller one after. */
  remember(isr: SimIsr): void;
  mutation: Mutation | null;
}

/**
 * replication/leader-replication.ts over the fake runtime: a session per follower, the in-sync
 * set written to Redis (fenced by the lease) before it takes effect, joining followers counted
 * for commits before Redis lists them, the high-water mark from the real nextHighWatermark.
 */
export class SimLeaderReplication {
  private readonly sessions = new Map<string, SimFollowerSession>();
  readonly isr: Set<string>;
  private readonly joining = new Set<string>();
  private readonly leaving = new Set<string>();
  private isrChanges: Promise<void> = Promise.resolve();
  private timer: Timer | null = null;
  private lastDiscovery = 0;
  private stopped = false;
  private readonly cmdMs: number;
  /** Write number of the last in-sync set written (or found) in this leadership. */
  private isrVersion: number;

  constructor(
    private readonly rt: Runtime,
    private readonly o: SimLeaderOptions,
  ) {
    const members = o.initialIsr.members;
    this.isrVersion = o.initialIsr.epoch === o.epoch ? (o.initialIsr.version ?? 0) : 0;
    this.isr = new Set(members.includes(o.self) ? members : [...members, o.self]);
    this.cmdMs = Math.max(200, Math.min(o.renewMs, 2000));
  }

  start(): void {
    void this.discover();
    this.interval();
    for (const log of this.o.logs) this.recompute(log);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    for (const s of this.sessions.values()) s.stop();
    this.sessions.clear();
    this.o.commits.failAll();
  }

  isActive(): boolean {
    return !this.stopped;
  }

  inSyncCount(): number {
    return this.isr.size;
  }

  /** Followers counted for commits now (the checker compares them with Redis's in-sync set). */
  counted(): Set<string> {
    return new Set([...this.isr, ...this.joining]);
  }

  afterAppend(log: SimLog): void {
    this.recompute(log);
    for (const s of this.sessions.values()) s.wake();
  }

  /** setInterval(tick, min(100, renewMs)) */
  private interval(): void {
    this.timer = this.rt.timer(Math.min(100, this.o.renewMs), () => {
      this.tick();
      if (!this.stopped) this.interval();
    });
  }

  private commitFollowers(): SimFollowerSession[] {
    const out: SimFollowerSession[] = [];
    for (const id of [...this.isr, ...this.joining]) {
      if (id === this.o.self) continue;
      out.push(this.sessions.get(id) ?? this.ensureSession(id, false));
    }
    return out;
  }

  private recompute(log: SimLog): void {
    if (this.stopped || !this.o.canWrite()) return;
    const current = log.highWatermark();
    const next = nextHighWatermark({
      current,
      leaderEnd: log.logEndOffset(),
      followerEnds: this.o.mutation === 'hwm-ignores-followers' ? [] : this.commitFollowers().map((s) => s.matched(log.partition)),
      inSyncCount: this.isr.size,
      minInsync: this.o.minInsync,
    });
    if (next > current) {
      log.setHighWatermark(next);
      this.o.commits.notify(log);
      for (const s of this.sessions.values()) s.wake();
    }
  }

  private onProgress(session: SimFollowerSession, logs: SimLog[]): void {
    if (this.stopped) return;
    for (const log of logs) this.recompute(log);
    if (!this.isr.has(session.id) && !this.joining.has(session.id)) this.maybeExpand(session);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.rt.now();
    const followers = [...this.isr].filter((id) => id !== this.o.self);
    const lagging = laggingFollowers(followers, (id) => this.sessions.get(id)?.lastCaughtUpAt ?? 0, now, this.o.replicaLagMs);
    for (const id of lagging) this.shrink(id);
    for (const id of followers) if ((this.sessions.get(id)?.refusedForMs() ?? 0) >= REFUSED_LIMIT_MS) this.shrink(id);
    if (now - this.lastDiscovery >= this.o.renewMs) void this.discover();
  }

  /** LeaseStore.listBrokers: SMEMBERS + MGET, two round trips. */
  private async discover(): Promise<void> {
    this.lastDiscovery = this.rt.now();
    try {
      await this.rt.redis((r) => r.listBrokers(), this.cmdMs);
      for (const b of await this.rt.redis((r) => r.listBrokers(), this.cmdMs)) {
        if (b.id === this.o.self || this.stopped) continue;
        if (b.alive) this.ensureSession(b.id, true);
        else if (this.isr.has(b.id)) this.shrink(b.id);
      }
    } catch {
      /* discovery failed; retried on the next tick */
    }
  }

  private ensureSession(id: string, withUrl: boolean): SimFollowerSession {
    let s = this.sessions.get(id);
    if (s) {
      if (withUrl) {
        s.hasUrl = true;
        s.start();
      }
      return s;
    }
    s = new SimFollowerSession(id, withUrl, this.rt, {
      logs: this.o.logs,
      epoch: this.o.epoch,
      self: this.o.self,
      metaVersion: 'topics-v1',
      heartbeatMs: Math.max(50, Math.min(this.o.renewMs, this.o.replicaLagMs / 4)),
      requestTimeoutMs: Math.max(500, Math.min(this.o.replicaLagMs, 5000)),
      maxEntries: this.o.maxEntries,
      mutation: this.o.mutation,
      onProgress: (session, logs) => this.onProgress(session, logs),
      onStaleEpoch: (epoch) => this.o.onStaleEpoch(epoch),
    });
    this.sessions.set(id, s);
    if (withUrl) s.start();
    return s;
  }

  private maybeExpand(s: SimFollowerSession): void {
    if (!s.hasAnswered()) return;
    const partitions = this.o.logs.map((log) => ({ followerEnd: s.matched(log.partition), highWatermark: log.highWatermark() }));
    if (!mayRejoin(partitions, s.metadataInSync())) return;
    this.joining.add(s.id);
    this.changeIsr('expand', s.id);
  }

  /** Clean shutdown: take this leader out of the in-sync set (fenced) so the next one does not wait for it. */
  async leave(): Promise<boolean> {
    const others = [...this.isr].filter((id) => id !== this.o.self && !this.leaving.has(id));
    const fence = this.o.fence();
    if (others.length === 0 || !fence) return false;
    await this.isrChanges;
    try {
      const isr: SimIsr = { epoch: this.o.epoch, members: others.sort(), version: ++this.isrVersion };
      const ok = await this.rt.redis((r: FakeRedis) => r.writeIsr(fence, isr), this.cmdMs);
      if (ok) this.o.remember(isr);
      return ok;
    } catch {
      return false;
    }
  }

  private shrink(id: string): void {
    if (!this.isr.has(id) || this.leaving.has(id)) return;
    this.leaving.add(id);
    this.changeIsr('shrink', id);
  }

  private changeIsr(change: 'shrink' | 'expand', id: string): void {
    this.isrChanges = this.isrChanges.then(async () => {
      if (this.stopped) return;
      const fence = this.o.fence();
      if (!fence) return;
      const members = new Set(this.isr);
      if (change === 'expand') members.add(id);
      else members.delete(id);
      try {
        const isr: SimIsr = { epoch: this.o.epoch, members: [...members].sort(), version: ++this.isrVersion };
        // A larger set is remembered before Redis has it, a smaller one after: what this broker
        // remembers is never smaller than what Redis may hold.
        if (change === 'expand') this.o.remember(isr);
        const ok = await this.rt.redis((r: FakeRedis) => r.writeIsr(fence, isr), this.cmdMs);
        if (!ok) return this.rt.note(`could not record the in-sync set change (${change} ${id}): lease lost`);
        if (change === 'shrink') this.o.remember(isr);
        if (change === 'expand' && this.o.mutation !== 'revert-A') this.isr.add(id);
        else this.isr.delete(id);
        this.rt.note(`in-sync set ${change === 'expand' ? 'expanded with' : 'shrank without'} ${id}: [${[...this.isr].sort().join(', ')}]`);
        this.o.onIsrChange([...this.isr].sort());
        for (const log of this.o.logs) this.recompute(log);
      } catch (err) {
        this.rt.note(`could not record the in-sync set change (${change} ${id}): ${(err as Error).message}`);
        // Unknown outcome: Redis may list the new member already; keep counting it until a shrink is recorded.
        if (change === 'expand' && this.o.mutation !== 'revert-A') this.isr.add(id);
      } finally {
        if (change === 'expand') this.joining.delete(id);
        else this.leaving.delete(id);
      }
    });
  }
}
