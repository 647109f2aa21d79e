import type { LogManager, PartitionLog } from '../log/types.js';
import type { TimePorts } from '../ports/clock.js';
import { epochAt } from '../log/leader-epoch-cache.js';
import { epochsFrom } from './divergence.js';
import { resumeAfterMismatch, sendFrom } from './log-start.js';
import { FRAME_AUTH_HEADER, signFrame } from './frame-auth.js';
import { FRAME_SENDER_HEADER, signSender } from './sender-proof.js';
import { TransportError, type FramePoster } from './transport.js';
import type { ReplicationRules } from './rules.js';
import { unreachableReason } from './unreachable.js';
import { decodeAnswer, encodeFrame, type ReplicateAnswer, type ReplicateHeader, type ReplicatePart } from './wire.js';

interface BuiltRequest {
  frame: Buffer;
  parts: ReplicatePart[];
  logs: PartitionLog[];
  /**
   * The log end, when the request was built, of every partition the follower had not matched yet
   * then (every other one was caught up already): the bar for "caught up".
   */
  endsAtBuild: Map<PartitionLog, number>;
  meta: string;
  /** The leader's topic change count when built; whether the frame carried topics. */
  topicsSeq: number;
  sentTopics: boolean;
}

export interface SessionContext {
  logs: LogManager;
  epoch: number;
  /** Signs every frame: followers obey only frames signed with the current leadership's key. */
  frameKey: Buffer;
  self: { id: string; url: string };
  metaVersion(): string;
  heartbeatMs: number;
  requestTimeoutMs: number;
  /** Carries the frames (http:// or https:// followers). */
  transport: FramePoster;
  /** Monotonic clock and timers (systemTime in production). */
  time: TimePorts;
  /** A follower answered: these partitions' replicated ends may have moved. */
  onProgress(session: FollowerSession, partitions: PartitionLog[]): void;
  /** The follower knows a newer epoch: this leader is deposed. */
  onStaleEpoch(epoch: number): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', line: string): void;
  rules: ReplicationRules;
}

interface PartitionProgress {
  /** Next offset to send. Starts at the leader's log end: the first answer says where the follower really is. */
  nextOffset: number;
  /** Offsets below this are known to be identical on the follower. */
  matched: number;
  /** Cut the follower's log here in the next request (divergent tail). */
  truncateTo: number | undefined;
  /** High-water mark last told to the follower. */
  sentHwm: number;
  /** Log start offset last told to the follower. */
  sentLogStart: number;
}

const MAX_PART_BYTES = 1 << 20;
/**
 * A follower unreachable this long is named in a warning (a name that does not resolve at once:
 * that never heals by itself). Shorter runs are a restart or a blip, logged at debug level.
 */
const UNREACHABLE_WARN_MS = 1000;
const MAX_FRAME_BYTES = 8 << 20;
const key = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * The leader's replication stream to one follower (Raft's AppendEntries loop): whenever there is
 * something new, one request carries every partition's new records, the high-water marks and any
 * topic changes; concurrent produces therefore share a round trip. Between appends it sends a
 * heartbeat every `heartbeatMs` so the follower keeps hearing from its leader.
 */
export class FollowerSession {
  private readonly progress = new Map<PartitionLog, PartitionProgress>();
  private metaAcked = '';
  /**
   * The leader's topic change count (LogManager.topicsSeq) up to which the follower has confirmed
   * the topics; undefined when unknown (first contact, a restart): then the full list is sent.
   * Otherwise only the topics changed since: with 10,000 partitions the full list is ~150 KB of
   * JSON per frame, and the follower re-checked every topic of it.
   */
  private topicsAckedSeq: number | undefined;
  /** Monotonic time when the follower last had everything the leader had when the request was built. */
  lastCaughtUpAt: number;
  private everAnswered = false;
  /** The follower process we have been talking to (see ReplicateAnswer.incarnation). */
  private incarnation: string | null = null;
  private running = false;
  private wakeUp: (() => void) | null = null;
  private pendingWake = false;
  private lastSentAt = 0;
  private failures = 0;
  /** Monotonic time of the first of an unbroken run of refused connections (nobody listening), else null. */
  private refusedSince: number | null = null;
  /** The last answer refused a truncation: ask again at heartbeat pace, not in a tight loop. */
  private truncationRefused = false;
  /** The last answer said the follower's storage refused the records (a full disk): back off. */
  private storageRefused = false;
  /** Partitions whose refused truncation was already logged (once per session, not per retry). */
  private readonly refusalsLogged = new Set<string>();
  /** The current run of "could not reach the follower at all": its kind, start, length, and whether it was warned about. */
  private unreachable: { kind: string; since: number; failures: number; warned: boolean } | null = null;

  constructor(
    readonly id: string,
    public url: string,
    private readonly ctx: SessionContext,
  ) {
    this.lastCaughtUpAt = this.ctx.time.clock.now();
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

  /** Log end replicated to the follower for a partition (0 until it has answered). */
  matched(topic: string, partition: number): number {
    const log = this.ctx.logs.partition(topic, partition);
    return (log && this.progress.get(log)?.matched) ?? 0;
  }

  /** How long every connection attempt has been refused (the follower's process is not listening), else 0. */
  refusedForMs(): number {
    return this.refusedSince === null ? 0 : this.ctx.time.clock.now() - this.refusedSince;
  }

  hasAnswered(): boolean {
    return this.everAnswered;
  }

  metadataInSync(): boolean {
    return this.metaAcked === this.ctx.metaVersion();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      // Let the produce requests already read off their sockets append first, so one frame
      // carries all of them (fewer, fuller frames: each one wakes the follower).
      await this.ctx.time.timers.turn();
      this.pendingWake = false;
      const built = await this.build();
      if (!built) {
        await this.sleep(this.ctx.heartbeatMs - (this.ctx.time.clock.now() - this.lastSentAt));
        continue;
      }
      this.lastSentAt = this.ctx.time.clock.now();
      try {
        const auth = signFrame(this.ctx.epoch, this.ctx.frameKey, built.frame);
        // The sender proof lets a POSTed frame skip the follower's queue of unauthenticated bodies
        // (sender-proof.ts); a frame that travels on the stream leaves it behind.
        const sender = signSender(this.ctx.epoch, this.ctx.frameKey, built.frame.length);
        const answer = decodeAnswer(await this.ctx.transport.post(this.url, '/replica/append', built.frame, this.ctx.requestTimeoutMs, { [FRAME_AUTH_HEADER]: auth, [FRAME_SENDER_HEADER]: sender }));
        this.failures = 0;
        this.refusedSince = null;
        this.reachedAgain();
        this.handle(answer, built);
        // Nothing will change by asking again at once: a refused cut, or a follower whose disk
        // refuses writes (new records must not wake it early, or a busy leader retries per produce).
        if (this.storageRefused) await this.sleep(this.ctx.heartbeatMs, false);
        else if (this.truncationRefused) await this.sleep(this.ctx.heartbeatMs);
      } catch (err) {
        this.failures++;
        if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') this.refusedSince ??= this.ctx.time.clock.now();
        else this.refusedSince = null;
        const unreachable = unreachableReason(err, this.url);
        if (unreachable) this.noteUnreachable(unreachable.kind, unreachable.why);
        else if (err instanceof TransportError && err.status === 401 && (this.failures === 1 || this.failures % 50 === 0)) {
          // The follower could not find this leadership's frame key (it cannot reach Redis, or
          // Redis lost the key): it stays behind until it can.
          this.ctx.log('warn', `follower ${this.id} does not accept this leader's frames (${this.failures}x): ${err.message}`);
        } else if (this.failures === 1 || this.failures % 50 === 0) {
          this.ctx.log('debug', `replication to ${this.id} failed (${this.failures}x): ${(err as Error).message}`);
        }
        // A follower that is down: back off, but not so long that a restarted one waits to catch up.
        await this.sleep(Math.min(25 * this.failures, 250));
      }
    }
  }

  /**
   * One warning per condition (a kind of failure to reach the follower), with counts, naming the
   * URL tried: a wrong advertised URL (a name others cannot resolve, an address nothing listens on)
   * must not hide at debug level while the follower drifts out of the in-sync set.
   */
  private noteUnreachable(kind: string, why: string): void {
    const now = this.ctx.time.clock.now();
    const run = this.unreachable?.kind === kind ? this.unreachable : { kind, since: now, failures: 0, warned: false };
    run.failures++;
    this.unreachable = run;
    if (run.warned || (kind !== 'dns' && now - run.since < UNREACHABLE_WARN_MS)) {
      if (run.failures === 1) this.ctx.log('debug', `replication to ${this.id} at ${this.url} failed: ${why}`);
      return;
    }
    run.warned = true;
    this.ctx.log(
      'warn',
      `cannot reach follower ${this.id} at ${this.url}: ${why} (${run.failures} failed attempt(s) over ${Math.round(now - run.since)} ms); ` +
        `it stays out of the in-sync set until it answers. If that URL is wrong, fix that broker's --advertised-url (YAK_ADVERTISED_URL) and --host`,
    );
  }

  private reachedAgain(): void {
    const run = this.unreachable;
    this.unreachable = null;
    if (run?.warned) this.ctx.log('info', `follower ${this.id} at ${this.url} answers again after ${run.failures} failed attempt(s) over ${Math.round(this.ctx.time.clock.now() - run.since)} ms`);
  }

  private async build(): Promise<BuiltRequest | null> {
    const ctx = this.ctx;
    const meta = ctx.metaVersion();
    const parts: ReplicatePart[] = [];
    const payloads: Buffer[] = [];
    const logs: PartitionLog[] = [];
    const endsAtBuild = new Map<PartitionLog, number>();
    const topicsSeq = ctx.logs.topicsSeq();
    let total = 0;
    for (const log of ctx.logs.all()) {
      let p = this.progress.get(log);
      const end = log.logEndOffset();
      if (!p) {
        p = { nextOffset: end, matched: 0, truncateTo: undefined, sentHwm: -1, sentLogStart: 0 };
        this.progress.set(log, p);
      }
      if (p.matched < end) endsAtBuild.set(log, end);
      const hwm = log.highWatermark();
      // Retention may have deleted what the follower needs next: it restarts at our log start.
      const logStart = log.logStartOffset();
      p.nextOffset = sendFrom(p.nextOffset, logStart);
      let bytes: Buffer | null = null;
      if (p.nextOffset < end && total < MAX_FRAME_BYTES) {
        const raw = await log.readRaw(p.nextOffset, MAX_PART_BYTES);
        if (raw.count > 0) bytes = raw.bytes;
      }
      const needed = bytes !== null || p.truncateTo !== undefined || hwm !== p.sentHwm || logStart !== p.sentLogStart || !this.everAnswered;
      if (!needed) continue;
      const prevEpoch = p.nextOffset > 0 ? epochAt(log.epochs(), p.nextOffset - 1) : -1;
      const part: ReplicatePart = { topic: log.topic, partition: log.partition, prevOffset: p.nextOffset, prevEpoch, hwm, length: bytes?.length ?? 0 };
      if (logStart > 0) part.logStart = logStart;
      if (p.truncateTo !== undefined) {
        part.truncateTo = p.truncateTo;
        part.truncateEpoch = p.truncateTo < end ? epochAt(log.epochs(), p.truncateTo) : -1;
        part.leaderEnd = end;
        part.leaderEpochs = epochsFrom(log.epochs(), p.truncateTo);
      }
      parts.push(part);
      payloads.push(bytes ?? Buffer.alloc(0));
      logs.push(log);
      endsAtBuild.set(log, end);
      total += bytes?.length ?? 0;
    }
    const metaNeeded = this.metaAcked !== meta;
    const heartbeatDue = this.ctx.time.clock.now() - this.lastSentAt >= ctx.heartbeatMs;
    if (parts.length === 0 && !metaNeeded && !heartbeatDue) return null;
    const header: ReplicateHeader = { epoch: ctx.epoch, leader: ctx.self, metaVersion: meta, parts };
    if (metaNeeded) header.topics = this.topicsAckedSeq === undefined ? ctx.logs.topics() : ctx.logs.topicsChangedSince(this.topicsAckedSeq);
    return { frame: encodeFrame(header, payloads), parts, logs, endsAtBuild, meta, topicsSeq, sentTopics: metaNeeded };
  }

  private handle(answer: ReplicateAnswer, built: BuiltRequest): void {
    if (!answer.ok) {
      if (answer.error === 'STALE_EPOCH' && typeof answer.epoch === 'number') this.ctx.onStaleEpoch(answer.epoch);
      else this.ctx.log('warn', `follower ${this.id} refused replication: ${answer.error} ${answer.message}`);
      return;
    }
    if (this.incarnation !== null && answer.incarnation !== this.incarnation) {
      // The follower restarted: its log may be shorter than we knew (a cut tail, a lost unsynced
      // write). Forget its progress; the next request asks about every partition again.
      this.ctx.log('info', `follower ${this.id} restarted: re-checking every partition`);
      this.progress.clear();
      this.metaAcked = '';
      this.topicsAckedSeq = undefined;
      this.everAnswered = false;
      this.incarnation = answer.incarnation;
      this.ctx.onProgress(this, []);
      return;
    }
    this.incarnation = answer.incarnation;
    this.everAnswered = true;
    this.metaAcked = answer.metaVersion;
    // The follower now holds every topic the frame carried (all changes up to topicsSeq): later
    // frames need only what changed since. Only a frame that carried topics tells that.
    if (built.sentTopics) this.topicsAckedSeq = answer.metaVersion === built.meta ? built.topicsSeq : undefined;
    this.truncationRefused = false;
    this.storageRefused = false;
    built.parts.forEach((sent, i) => {
      const state = answer.parts[i];
      const log = built.logs[i]!;
      const p = this.progress.get(log)!;
      if (!state) return;
      if (state.status === 'ok') {
        p.matched = state.logEndOffset;
        p.nextOffset = state.logEndOffset;
        p.truncateTo = undefined;
        p.sentHwm = sent.hwm;
        p.sentLogStart = sent.logStart ?? 0;
      } else {
        if (state.storage) this.storageRefused = true;
        if (state.refused) {
          // The follower holds committed records this leader lacks: it keeps them and stays out
          // of the in-sync set. Nothing to do here but say so; it must not be forced.
          this.truncationRefused = true;
          const k = key(sent.topic, sent.partition);
          if (!this.refusalsLogged.has(k)) this.ctx.log('error', `follower ${this.id} refused to cut ${sent.topic}/${sent.partition}: ${state.refused}`);
          this.refusalsLogged.add(k);
        }
        const resume = this.ctx.rules.skipDivergenceCheck
          ? trustFollowerEnd(state.logEndOffset, log.logEndOffset())
          : resumeAfterMismatch(
              { epochs: log.epochs(), logEnd: log.logEndOffset(), logStart: log.logStartOffset() },
              { epochs: state.epochs ?? [], logEnd: state.logEndOffset, logStart: state.logStart ?? 0 },
            );
        p.truncateTo = resume.truncateTo;
        p.nextOffset = resume.nextOffset;
        p.matched = Math.min(resume.nextOffset, state.logEndOffset);
        p.sentHwm = -1;
        p.sentLogStart = -1;
      }
    });
    // Caught up if every partition has all the leader had when the request was built.
    let caughtUp = this.metaAcked === built.meta;
    for (const [log, endAtBuild] of built.endsAtBuild) {
      const p = this.progress.get(log);
      if (!p || p.matched < endAtBuild) caughtUp = false;
    }
    if (caughtUp) this.lastCaughtUpAt = this.ctx.time.clock.now();
    this.ctx.onProgress(this, built.logs);
  }

  /** Wait `ms`, or less if woken (new records, stop); with `wakeable` false only stop() cuts it short. */
  private sleep(ms: number, wakeable = true): Promise<void> {
    if ((wakeable && this.pendingWake) || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.ctx.time.timers.after(Math.max(1, ms), () => {
        this.wakeUp = null;
        resolve();
      });
      const wakeUp = () => {
        if (!wakeable && this.running) {
          this.wakeUp = wakeUp; // new records: keep waiting, but stay stoppable
          return;
        }
        t.cancel();
        resolve();
      };
      this.wakeUp = wakeUp;
    });
  }
}

/** The rule `skipDivergenceCheck` puts in place of resumeAfterMismatch: the follower's records taken for the leader's. */
function trustFollowerEnd(followerEnd: number, leaderEnd: number): { nextOffset: number; truncateTo: number | undefined } {
  const at = Math.min(followerEnd, leaderEnd);
  return { nextOffset: at, truncateTo: at < followerEnd ? at : undefined };
}
