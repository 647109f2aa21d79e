import type { LogManager, PartitionLog } from '../log/types.js';
import type { TimePorts } from '../ports/clock.js';
import { epochAt } from '../log/leader-epoch-cache.js';
import { epochsFrom } from './divergence.js';
import { resumeAfterMismatch, sendFrom } from './log-start.js';
import { FRAME_AUTH_HEADER, frameMac } from './frame-auth.js';
import { ForgedAnswerError, checkAnswer, nextAnswerSeq } from './answer-auth.js';
import { FRAME_SENDER_HEADER, signSender } from './sender-proof.js';
import { TransportError, type FramePoster, type SenderProof } from './transport.js';
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
  /** Whether some part asks the follower to cut its log (a resync under way). */
  cuts: boolean;
  /** Records it carries (all partitions). */
  records: number;
}

/** How a frame in flight ended: the follower's answer, or why there is none. */
type Outcome = { answer: ReplicateAnswer } | { error: unknown };

/** A frame sent and not yet dealt with, oldest first (see FollowerSession.inFlight). */
interface InFlight {
  built: BuiltRequest;
  /** The transport's promise of the answer's bytes (a rejection is also caught, so never unhandled). */
  posted: Promise<Buffer>;
  /** Resolves (never rejects) once `posted` settled; `done` is then true. */
  settled: Promise<void>;
  done: boolean;
  /** The frame's MAC, which the follower's signed answer covers (answer-auth.ts); null if signing failed. */
  frameMac: Buffer | null;
}

/** What the loop does after dealing with an answer or a failure: wait this long (wakeable or not). */
interface Pause {
  ms: number;
  wakeable: boolean;
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
  /**
   * Where the follower's log is known to end (from its answers), so where sending resumes after a
   * rollback. Starts at the leader's log end: the first answer says where the follower really is.
   */
  nextOffset: number;
  /**
   * Where the next frame starts: nextOffset, or past it by the records of frames still in flight
   * (sent ahead of their answers). Back to nextOffset whenever nothing is in flight.
   */
  sendOffset: number;
  /** The high-water mark and log start carried by the newest frame sent (answered or not). */
  aheadHwm: number;
  aheadLogStart: number;
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
/** A frame carrying this many records lets the next one go ahead of its answer (see maySendAhead). */
export const BULK_RECORDS = 256;
/**
 * A follower unreachable this long is named in a warning (a name that does not resolve at once:
 * that never heals by itself). Shorter runs are a restart or a blip, logged at debug level.
 */
const UNREACHABLE_WARN_MS = 1000;
const MAX_FRAME_BYTES = 8 << 20;
/**
 * On a stream, how long a frame that would only tell new high-water marks (or log starts) waits
 * for records to ride with (see build). Followers need the high-water mark only to serve committed
 * reads (which may trail the leader's by a moment) and for nothing that acknowledges a record.
 */
export const HWM_HOLD_MS = 5;
const key = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * The leader's replication stream to one follower (Raft's AppendEntries loop): whenever there is
 * something new, one request carries every partition's new records, the high-water marks and any
 * topic changes; concurrent produces therefore share a round trip. Between appends it sends a
 * heartbeat every `heartbeatMs` so the follower keeps hearing from its leader.
 *
 * Pipelining (Raft's): on a replication stream (transport.inFlightLimit > 1) frames are sent ahead
 * of their answers, each starting where the previous one ended (`sendOffset`), up to the limit in
 * flight, where that does not make frames smaller (maySendAhead): behind frames that carry no
 * records (the high-water mark sent after each commit), which new records no longer wait for, and
 * behind big ones (bulk produce). Answers are dealt with strictly in the order the frames were
 * sent, and only they move what the follower is known to hold (`matched`, hence the in-sync set
 * and the high-water mark). Every frame names the
 * offset and epoch it continues (prevOffset/prevEpoch), so the follower appends only what extends
 * its log exactly: a frame arriving after a lost one, twice, or late is refused ("mismatch"), never
 * misapplied. Whenever an answer is anything but "every part ok" (a mismatch, a refused cut, a
 * storage refusal, a stale epoch, another follower incarnation) or a frame fails, the frames after
 * it are forgotten, sending resumes from what the follower confirmed (`nextOffset`, or where the
 * resync logic says) and nothing is sent ahead until the follower answers cleanly again. Sending
 * ahead is only done in steady state: not before the first answer, nor while a frame carrying a
 * cut or the topic list is in flight. Over POSTs (limit 1) it is the one-frame loop it always was.
 *
 * Fewer frames (in steady state; timing only, never what a frame may carry): on an open stream,
 * whatever its limit in flight, a frame that would tell only new high-water marks waits up to
 * HWM_HOLD_MS for records to ride with (holdHwm). Each frame is a socket write that wakes the
 * follower and an answer that wakes the leader. (Waiting up to 1 ms for the producers just answered,
 * to gather them into one frame, made frames fuller but single produce slower on a loaded 2-core
 * machine, at 1 and at 8 frames in flight: bench/README.md, "Single produce, second pass".)
 */
export class FollowerSession {
  private readonly progress = new Map<PartitionLog, PartitionProgress>();
  /** Frames sent and not yet dealt with, in the order sent (at most transport.inFlightLimit). */
  private inFlight: InFlight[] = [];
  /** Appends on the leader (wake(true)) since the last frame was built: something to send ahead. */
  private appendsSinceSend = 0;
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
  /** Whether this follower signed an answer in this leadership: from then on it must sign all (answer-auth.ts). */
  private answersSigned = false;
  private unsignedNoted = false;
  private forgedAnswers = 0;
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
  /** Monotonic time since which a frame telling only high-water marks is held back (see build), else null. */
  private hwmHeldSince: number | null = null;
  /** Wakes the loop when the held high-water marks are due. */
  private hwmTimer: { cancel(): void } | null = null;
  /** Partitions whose refused truncation was already logged (once per session, not per retry). */
  private readonly refusalsLogged = new Set<string>();
  /** The current run of "could not reach the follower at all": its kind, start, length, and whether it was warned about. */
  private unreachable: { kind: string; since: number; failures: number; warned: boolean } | null = null;
  /** Refusals answered in a row (answers with ok: false), for the pause before asking again. */
  private refusals = 0;

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
    this.releaseHwm();
    this.wake();
  }

  /** Something to send: `appended` when records were appended (counted: see maySendAhead). */
  wake(appended = false): void {
    if (appended) this.appendsSinceSend++;
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
      const limit = this.inFlightLimit();
      if (this.inFlight.length < limit && (this.inFlight.length === 0 || this.maySendAhead())) {
        // Counted from here: an append while the frame is being built may miss it, and then counts for the next.
        this.appendsSinceSend = 0;
        const built = await this.build();
        if (built) {
          this.send(built);
          // Room for more: look again at once (new records may have arrived while building).
          if (this.inFlight.length < limit) continue;
        }
      }
      const head = this.inFlight[0];
      if (!head) {
        await this.sleep(this.ctx.heartbeatMs - (this.ctx.time.clock.now() - this.lastSentAt));
        continue;
      }
      // The oldest frame's answer; with room in the window, new records wake us to send them ahead.
      if (this.inFlight.length < limit && this.steady()) {
        await this.answerOrWake(head);
        if (!head.done) continue;
      }
      // (Awaited directly, as the one-frame loop always did: the simulator's schedules depend on it.)
      let outcome: Outcome;
      try {
        outcome = { answer: decodeAnswer(this.checkAnswer(await head.posted, head)) };
      } catch (err) {
        outcome = { error: err };
      }
      if (!this.running) break;
      this.inFlight.shift();
      const pause = this.conclude(head.built, outcome);
      if (pause) await this.sleep(pause.ms, pause.wakeable);
    }
  }

  /**
   * Whether frames to this follower go on an open replication stream now (whatever its limit in
   * flight): only then does a frame wait to be fuller (holdHwm). Over POSTs the loop is the
   * one it always was (the simulator's POST schedules depend on it).
   */
  private onStream(): boolean {
    return this.ctx.transport.streaming?.(this.url) ?? this.inFlightLimit() > 1;
  }

  /** Frames the transport lets be in flight to this follower now (1: POSTs, or no stream yet). */
  private inFlightLimit(): number {
    const limit = this.ctx.transport.inFlightLimit?.(this.url) ?? 1;
    return Number.isInteger(limit) && limit > 1 ? limit : 1;
  }

  /**
   * Whether a frame may be sent before the ones in flight are answered: only in steady state (see
   * steady()), once records were appended since the last frame, and only where it does not make
   * frames smaller. Every frame costs a socket write that wakes the follower and an answer that
   * wakes the leader, whatever it carries; sending each append the moment it arrives made single
   * produce cost 1.18× the CPU per record, and fewer records/s on a machine short of CPU, than one
   * frame at a time (measured), where each frame carries everything that arrived meanwhile. So a
   * frame goes ahead when what is in flight carries no records (the high-water mark sent after
   * each commit, a heartbeat: the records no longer wait for its answer, and there are no more
   * frames than before), or when the newest frame in flight carried at least BULK_RECORDS (big
   * batches: each frame's cost is spread over many records, and the follower's round trip no
   * longer idles the leader between them).
   */
  private maySendAhead(): boolean {
    if (this.appendsSinceSend === 0 || !this.steady()) return false;
    let newestWithRecords: BuiltRequest | null = null;
    for (const f of this.inFlight) if (f.built.records > 0) newestWithRecords = f.built;
    return newestWithRecords === null || newestWithRecords.records >= BULK_RECORDS;
  }

  /** The first conditions of maySendAhead: what is in flight does not decide what the next frame holds. */
  private steady(): boolean {
    if (!this.everAnswered || this.truncationRefused || this.storageRefused) return false;
    return !this.inFlight.some((f) => f.built.cuts || f.built.sentTopics);
  }

  /** Signs and sends `built`; its outcome is recorded on its entry (the promise never rejects). */
  private send(built: BuiltRequest): void {
    this.lastSentAt = this.ctx.time.clock.now();
    let posted: Promise<Buffer>;
    let signature: Buffer | null = null;
    try {
      const mac = frameMac(this.ctx.frameKey, built.frame);
      signature = Buffer.from(mac, 'base64url');
      const auth = `${this.ctx.epoch}.${mac}`;
      // The sender proof lets a POSTed frame skip the follower's queue of unauthenticated bodies
      // (sender-proof.ts); a frame that travels on the stream leaves it behind, so it is signed
      // (a second HMAC) only if the transport POSTs the frame.
      const { epoch, frameKey } = this.ctx;
      const length = built.frame.length;
      const sender: SenderProof = (forLength = length) => signSender(epoch, frameKey, forLength);
      posted = this.ctx.transport.post(this.url, '/replica/append', built.frame, this.ctx.requestTimeoutMs, { [FRAME_AUTH_HEADER]: auth, [FRAME_SENDER_HEADER]: sender });
    } catch (err) {
      posted = Promise.reject(err);
    }
    const entry: InFlight = { built, posted, settled: Promise.resolve(), done: false, frameMac: signature };
    // Frames rolled back are never awaited again: their failures must not be unhandled rejections.
    entry.settled = posted.then(
      () => {
        entry.done = true;
      },
      () => {
        entry.done = true;
      },
    );
    this.inFlight.push(entry);
  }

  /**
   * Resolves when `head` is settled, or when a wake (new records, stop) finds a frame may go ahead
   * now. A wake that finds none costs nothing more here (no turn of the loop per produce): the
   * records go with the frame built after the head's answer.
   */
  private answerOrWake(head: InFlight): Promise<void> {
    if ((this.pendingWake && this.maySendAhead()) || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const wakeUp = () => {
        if (this.running && !this.maySendAhead()) {
          this.wakeUp = wakeUp; // nothing may go ahead yet: keep waiting for the answer
          return;
        }
        resolve();
      };
      this.wakeUp = wakeUp;
      void head.settled.then(() => {
        if (this.wakeUp === wakeUp) this.wakeUp = null;
        resolve();
      });
    });
  }

  /**
   * The JSON of an answer that may be believed (answer-auth.ts), or throws: a signed answer must
   * match the frame it answers, and once this follower has signed an answer in this leadership it
   * must sign every one (a missing signature was stripped on the way). An unsigned answer from a
   * follower that never signed is an older version's, believed as before (see docs/security.md).
   */
  private checkAnswer(bytes: Buffer, entry: InFlight): Buffer {
    try {
      if (!entry.frameMac) throw new ForgedAnswerError('the frame was not signed');
      const { answer, signed } = checkAnswer(bytes, this.ctx.frameKey, this.ctx.epoch, entry.frameMac, this.answersSigned);
      if (signed) this.answersSigned = true;
      else if (!this.unsignedNoted) {
        this.unsignedNoted = true;
        this.ctx.log('info', `follower ${this.id} answers unsigned (an older version?): its answers are believed without a signature until it signs one`);
      }
      return answer;
    } catch (err) {
      if (err instanceof ForgedAnswerError && this.forgedAnswers++ % 1000 === 0) {
        this.ctx.log('warn', `refused an answer from follower ${this.id} (${this.forgedAnswers} so far): ${err.message}; nothing in it is counted (a man in the middle? use TLS between brokers)`);
      }
      throw err;
    }
  }

  /**
   * Deals with the oldest frame's outcome. Anything but a clean answer forgets the frames sent
   * after it: their answers no longer tell anything usable (the follower refused them, or it is
   * unknown which it applied), and sending resumes from what the follower confirmed.
   */
  private conclude(built: BuiltRequest, outcome: Outcome): Pause | null {
    if ('answer' in outcome) {
      this.failures = 0;
      this.refusedSince = null;
      this.reachedAgain();
      const clean = this.handle(outcome.answer, built);
      if (!clean) this.rollBack();
      else if (this.inFlight.length === 0) this.catchUpSendOffsets();
      // A refusal (STALE_EPOCH, INVALID_REQUEST) is no progress: asking again at once would loop
      // as fast as the follower answers (a genuine STALE_EPOCH deposes this leader meanwhile).
      if (!outcome.answer.ok) return { ms: Math.min(25 * ++this.refusals, 250), wakeable: true };
      this.refusals = 0;
      // Nothing will change by asking again at once: a refused cut, or a follower whose disk
      // refuses writes (new records must not wake it early, or a busy leader retries per produce).
      if (this.storageRefused) return { ms: this.ctx.heartbeatMs, wakeable: false };
      if (this.truncationRefused) return { ms: this.ctx.heartbeatMs, wakeable: true };
      return null;
    }
    this.rollBack();
    const err = outcome.error;
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
    return { ms: Math.min(25 * this.failures, 250), wakeable: true };
  }

  /** Forgets every frame still in flight and resumes sending from what the follower confirmed. */
  private rollBack(): void {
    this.inFlight = [];
    this.catchUpSendOffsets();
  }

  /** Nothing in flight: the next frame starts where the follower is known to be. */
  private catchUpSendOffsets(): void {
    for (const p of this.progress.values()) {
      p.sendOffset = p.nextOffset;
      p.aheadHwm = p.sentHwm;
      p.aheadLogStart = p.sentLogStart;
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
    let records = 0;
    /** Whether some part carries records or a cut, or must be sent anyway (first contact). */
    let urgent = false;
    /** Where each part's partition stands once the frame is sent (applied only if it is). */
    const ahead: { p: PartitionProgress; sendOffset: number; hwm: number; logStart: number }[] = [];
    for (const log of ctx.logs.all()) {
      let p = this.progress.get(log);
      const end = log.logEndOffset();
      if (!p) {
        p = { nextOffset: end, sendOffset: end, matched: 0, truncateTo: undefined, sentHwm: -1, sentLogStart: 0, aheadHwm: -1, aheadLogStart: 0 };
        this.progress.set(log, p);
      }
      if (p.matched < end) endsAtBuild.set(log, end);
      const hwm = log.highWatermark();
      // Retention may have deleted what the follower needs next: it restarts at our log start.
      const logStart = log.logStartOffset();
      // (Kept in step with sendOffset while nothing is in flight: the follower was told to restart there.)
      if (this.inFlight.length === 0) p.nextOffset = sendFrom(p.nextOffset, logStart);
      p.sendOffset = sendFrom(p.sendOffset, logStart);
      const from = p.sendOffset;
      let bytes: Buffer | null = null;
      let sentTo = from;
      if (from < end && total < MAX_FRAME_BYTES) {
        const raw = await log.readRaw(from, MAX_PART_BYTES);
        if (raw.count > 0) {
          bytes = raw.bytes;
          sentTo = raw.nextOffset;
          records += raw.count;
        }
      }
      const needed = bytes !== null || p.truncateTo !== undefined || hwm !== p.aheadHwm || logStart !== p.aheadLogStart || !this.everAnswered;
      if (!needed) continue;
      if (bytes !== null || p.truncateTo !== undefined || !this.everAnswered) urgent = true;
      ahead.push({ p, sendOffset: sentTo, hwm, logStart });
      const prevEpoch = from > 0 ? epochAt(log.epochs(), from - 1) : -1;
      const part: ReplicatePart = { topic: log.topic, partition: log.partition, prevOffset: from, prevEpoch, hwm, length: bytes?.length ?? 0 };
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
    const now = this.ctx.time.clock.now();
    const heartbeatDue = now - this.lastSentAt >= ctx.heartbeatMs;
    if (parts.length === 0 && !metaNeeded && !heartbeatDue) return null;
    if (!urgent && !metaNeeded && !heartbeatDue && this.holdHwm(now)) return null;
    this.releaseHwm();
    // The next frame, if sent before this one is answered, starts where this one ends.
    for (const a of ahead) {
      a.p.sendOffset = a.sendOffset;
      a.p.aheadHwm = a.hwm;
      a.p.aheadLogStart = a.logStart;
    }
    // answerAuth: the follower signs its answer (answer-auth.ts), so no one on the way can claim it holds records it does not.
    const header: ReplicateHeader = { epoch: ctx.epoch, leader: ctx.self, metaVersion: meta, parts, answerAuth: { seq: nextAnswerSeq(), follower: this.id } };
    if (metaNeeded) header.topics = this.topicsAckedSeq === undefined ? ctx.logs.topics() : ctx.logs.topicsChangedSince(this.topicsAckedSeq);
    return {
      frame: encodeFrame(header, payloads),
      parts,
      logs,
      endsAtBuild,
      meta,
      topicsSeq,
      sentTopics: metaNeeded,
      cuts: parts.some((part) => part.truncateTo !== undefined),
      records,
    };
  }

  /**
   * Whether to hold back a frame that would only tell new high-water marks or log starts (no
   * records, cut, topics or heartbeat): on a stream in steady state, for up to HWM_HOLD_MS, so it
   * rides with the next records. After each commit the leader would otherwise send such a frame
   * to every follower, and with many producers the next records arrive a moment later in a frame
   * of their own: two frames per commit, each a socket write, a follower woken and an answer read.
   * Nothing waits for it: a commit needs the followers' answers about records, never this.
   */
  private holdHwm(now: number): boolean {
    if (!this.onStream() || !this.steady()) return false;
    if (this.hwmHeldSince === null) {
      this.hwmHeldSince = now;
      this.hwmTimer = this.ctx.time.timers.after(HWM_HOLD_MS, () => {
        this.hwmTimer = null;
        // Due now, whatever the clock says (a timer may fire a fraction of a millisecond early).
        this.hwmHeldSince = -Infinity;
        this.wake();
      });
      return true;
    }
    return now - this.hwmHeldSince < HWM_HOLD_MS;
  }

  /** A frame goes (it carries every high-water mark held): nothing is held any more. */
  private releaseHwm(): void {
    this.hwmHeldSince = null;
    this.hwmTimer?.cancel();
    this.hwmTimer = null;
  }

  /** Learns from one answer; true when it was clean (every part 'ok'), so frames sent after it stand. */
  private handle(answer: ReplicateAnswer, built: BuiltRequest): boolean {
    if (!answer.ok) {
      if (answer.error === 'STALE_EPOCH' && typeof answer.epoch === 'number') this.ctx.onStaleEpoch(answer.epoch);
      else this.ctx.log('warn', `follower ${this.id} refused replication: ${answer.error} ${answer.message}`);
      return false;
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
      return false;
    }
    this.incarnation = answer.incarnation;
    this.everAnswered = true;
    this.metaAcked = answer.metaVersion;
    // The follower now holds every topic the frame carried (all changes up to topicsSeq): later
    // frames need only what changed since. Only a frame that carried topics tells that.
    if (built.sentTopics) this.topicsAckedSeq = answer.metaVersion === built.meta ? built.topicsSeq : undefined;
    this.truncationRefused = false;
    this.storageRefused = false;
    let clean = true;
    built.parts.forEach((sent, i) => {
      const state = answer.parts[i];
      const log = built.logs[i]!;
      const p = this.progress.get(log)!;
      if (!state) {
        clean = false;
        return;
      }
      if (state.status === 'ok') {
        // A follower that appended what it was sent ends at most where this leader does: a claim
        // past it is no broker's (answers are not signed) and counts only up to the leader's end.
        const end = Math.min(state.logEndOffset, log.logEndOffset());
        p.matched = end;
        p.nextOffset = end;
        p.truncateTo = undefined;
        p.sentHwm = sent.hwm;
        p.sentLogStart = sent.logStart ?? 0;
      } else {
        clean = false;
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
    return clean;
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
