import { epochAt } from '../../broker-runtime/src/log/leader-epoch-cache.js';
import { epochsFrom } from '../../broker-runtime/src/replication/divergence.js';
import { resumeAfterMismatch } from '../../broker-runtime/src/replication/log-start.js';
import type { Mutation } from './config.js';
import type { SimLog } from './disk.js';
import type { Runtime, SimAnswer, SimFrame, SimPart, Timer } from './runtime.js';

interface Built {
  frame: SimFrame;
  logs: SimLog[];
  endsAtBuild: Map<number, number>;
  meta: string;
}

interface Progress {
  nextOffset: number;
  matched: number;
  truncateTo: number | undefined;
  sentHwm: number;
}

export interface SessionContext {
  logs: SimLog[];
  epoch: number;
  self: string;
  metaVersion: string;
  heartbeatMs: number;
  requestTimeoutMs: number;
  /** Records per part per request (the real cap is 1 MiB of bytes; small here so catch-up takes several rounds). */
  maxEntries: number;
  mutation: Mutation | null;
  onProgress(session: SimFollowerSession, logs: SimLog[]): void;
  onStaleEpoch(epoch: number): void;
}

/**
 * replication/follower-session.ts over the fake runtime: the same loop (build, send, handle,
 * back off), the same progress bookkeeping, divergence found with the real divergencePoint.
 */
export class SimFollowerSession {
  private readonly progress = new Map<number, Progress>();
  private metaAcked = '';
  lastCaughtUpAt: number;
  private everAnswered = false;
  private running = false;
  private wakeUp: (() => void) | null = null;
  private pendingWake = false;
  private lastSentAt = 0;
  private failures = 0;
  /** The follower process we have been talking to. */
  private incarnation: string | null = null;
  /** Since when every connection has been refused (nobody listening), else null. */
  private refusedSince: number | null = null;
  /** The last answer refused a truncation: ask again at heartbeat pace. */
  private truncationRefused = false;

  constructor(
    readonly id: string,
    public hasUrl: boolean,
    private readonly rt: Runtime,
    private readonly ctx: SessionContext,
  ) {
    this.lastCaughtUpAt = rt.now();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.wake();
  }

  wake(): void {
    this.pendingWake = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  matched(partition: number): number {
    return this.progress.get(partition)?.matched ?? 0;
  }

  refusedForMs(): number {
    return this.refusedSince === null ? 0 : this.rt.now() - this.refusedSince;
  }

  hasAnswered(): boolean {
    return this.everAnswered;
  }

  metadataInSync(): boolean {
    return this.metaAcked === this.ctx.metaVersion;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      // setImmediate: produce requests already read append first, so one frame carries them all.
      await new Promise<void>((resolve) => this.rt.timer(0, resolve));
      this.pendingWake = false;
      const built = this.build();
      if (!built) {
        await this.sleep(this.ctx.heartbeatMs - (this.rt.now() - this.lastSentAt));
        continue;
      }
      this.lastSentAt = this.rt.now();
      try {
        const answer = await this.rt.post(this.id, built.frame, this.ctx.requestTimeoutMs);
        this.failures = 0;
        this.refusedSince = null;
        this.handle(answer, built);
        if (this.truncationRefused) await this.sleep(this.ctx.heartbeatMs);
      } catch (err) {
        this.failures++;
        if ((err as { code?: string }).code === 'ECONNREFUSED') this.refusedSince ??= this.rt.now();
        else this.refusedSince = null;
        await this.sleep(Math.min(25 * this.failures, 250));
      }
    }
  }

  private build(): Built | null {
    const ctx = this.ctx;
    const parts: SimPart[] = [];
    const logs: SimLog[] = [];
    const endsAtBuild = new Map<number, number>();
    for (const log of ctx.logs) {
      let p = this.progress.get(log.partition);
      const end = log.logEndOffset();
      endsAtBuild.set(log.partition, end);
      if (!p) {
        p = { nextOffset: end, matched: 0, truncateTo: undefined, sentHwm: -1 };
        this.progress.set(log.partition, p);
      }
      const hwm = log.highWatermark();
      const entries = p.nextOffset < end ? log.read(p.nextOffset, ctx.maxEntries) : [];
      const needed = entries.length > 0 || p.truncateTo !== undefined || hwm !== p.sentHwm || !this.everAnswered;
      if (!needed) continue;
      const prevEpoch = p.nextOffset > 0 ? epochAt(log.epochs(), p.nextOffset - 1) : -1;
      const part: SimPart = { partition: log.partition, prevOffset: p.nextOffset, prevEpoch, hwm, entries };
      if (p.truncateTo !== undefined) {
        part.truncateTo = p.truncateTo;
        // conditional-truncation: which record the leader has where it cuts (-1: none).
        part.truncateEpoch = p.truncateTo < end ? epochAt(log.epochs(), p.truncateTo) : -1;
        part.leaderEnd = end;
        part.leaderEpochs = epochsFrom(log.epochs(), p.truncateTo);
      }
      parts.push(part);
      logs.push(log);
    }
    const metaNeeded = this.metaAcked !== ctx.metaVersion;
    const heartbeatDue = this.rt.now() - this.lastSentAt >= ctx.heartbeatMs;
    if (parts.length === 0 && !metaNeeded && !heartbeatDue) return null;
    const frame: SimFrame = { epoch: ctx.epoch, leader: ctx.self, metaVersion: ctx.metaVersion, parts };
    if (metaNeeded) frame.topics = true;
    return { frame, logs, endsAtBuild, meta: ctx.metaVersion };
  }

  private handle(answer: SimAnswer, built: Built): void {
    if (!answer.ok) {
      if (answer.error === 'STALE_EPOCH' && typeof answer.epoch === 'number') this.ctx.onStaleEpoch(answer.epoch);
      return;
    }
    if (this.incarnation !== null && answer.incarnation !== this.incarnation) {
      // The follower restarted: forget its progress; the next request asks about every partition.
      this.rt.note(`follower ${this.id} restarted: re-checking every partition`);
      this.progress.clear();
      this.metaAcked = '';
      this.everAnswered = false;
      this.incarnation = answer.incarnation;
      this.ctx.onProgress(this, []);
      return;
    }
    this.incarnation = answer.incarnation;
    this.everAnswered = true;
    this.metaAcked = answer.metaVersion;
    this.truncationRefused = false;
    built.frame.parts.forEach((sent, i) => {
      const state = answer.parts[i];
      const log = built.logs[i]!;
      const p = this.progress.get(sent.partition)!;
      if (!state) return;
      if (state.status === 'ok') {
        p.matched = state.logEndOffset;
        p.nextOffset = state.logEndOffset;
        p.truncateTo = undefined;
        p.sentHwm = sent.hwm;
      } else {
        if (state.refused) {
          this.truncationRefused = true;
          this.rt.note(`follower ${this.id} refused to cut p${sent.partition}: ${state.refused}`);
        }
        // The mutation trusts the follower's log end as if its records were the leader's.
        // Retention is not simulated: every log starts at 0.
        const skip = Math.min(state.logEndOffset, log.logEndOffset());
        const resume =
          this.ctx.mutation === 'skip-divergence-check'
            ? { nextOffset: skip, truncateTo: skip < state.logEndOffset ? skip : undefined }
            : resumeAfterMismatch({ epochs: log.epochs(), logEnd: log.logEndOffset(), logStart: 0 }, { epochs: state.epochs ?? [], logEnd: state.logEndOffset, logStart: 0 });
        p.truncateTo = resume.truncateTo;
        p.nextOffset = resume.nextOffset;
        p.matched = Math.min(resume.nextOffset, state.logEndOffset);
        p.sentHwm = -1;
      }
    });
    let caughtUp = this.metaAcked === built.meta;
    for (const [k, endAtBuild] of built.endsAtBuild) {
      const p = this.progress.get(k);
      if (!p || p.matched < endAtBuild) caughtUp = false;
    }
    if (caughtUp) this.lastCaughtUpAt = this.rt.now();
    this.ctx.onProgress(this, built.logs);
  }

  private sleep(ms: number): Promise<void> {
    if (this.pendingWake || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      let t: Timer | null = null;
      t = this.rt.timer(Math.max(1, ms), () => {
        this.wakeUp = null;
        resolve();
      });
      this.wakeUp = () => {
        t?.cancel();
        resolve();
      };
    });
  }
}
