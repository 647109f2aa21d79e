import { randomUUID } from 'node:crypto';
import { unauthenticated } from '../errors/errors.js';
import type { LeaseHolder } from '../election/lease-store.js';
import { isStorageError } from '../log/storage-error.js';
import type { LogManager, TopicInfo } from '../log/types.js';
import type { Clock } from '../ports/clock.js';
import { epochAt } from '../log/leader-epoch-cache.js';
import { decideTruncation } from './divergence.js';
import { continuesLog, decideFollowerLogStart } from './log-start.js';
import type { HighWatermarkWaiters } from './hwm-waiters.js';
import type { ReplicationRules } from './rules.js';
import { FRAME_AUTH_HEADER, macMatches, parseFrameAuth } from './frame-auth.js';
import { SenderSeqs, senderProven } from './sender-proof.js';
import { signAnswer } from './answer-auth.js';
import { decodeFrame, encodeAnswer, type PartState, type ReplicateAnswer } from './wire.js';

export interface FollowerApplyOptions {
  logs: LogManager;
  currentEpoch(): number;
  isLeader(): boolean;
  /** Remember the sender's epoch (durably) and follow it; deposes us if we led an older epoch. */
  observeEpoch(epoch: number, holder: LeaseHolder): Promise<void>;
  applyTopics(topics: TopicInfo[]): Promise<void>;
  reads: HighWatermarkWaiters;
  onApplied(bytes: number, records: number): void;
  /** The frame key of the leadership with `epoch` (from Redis, cached), or null if there is none. */
  frameKey(epoch: number): Promise<Buffer | null>;
  log(level: 'debug' | 'info' | 'warn' | 'error', line: string): void;
  /** Monotonic time (systemClock in production). */
  clock: Clock;
  /** Empty (the default) outside the simulator. */
  rules?: ReplicationRules;
}

/**
 * The follower's side of replication: refuse older epochs (fencing a deposed leader), cut a
 * divergent tail when told, append the leader's bytes only where they continue our log exactly,
 * and learn the high-water mark. Requests are applied one at a time.
 */
export class FollowerApply {
  private chain: Promise<unknown> = Promise.resolve();
  private appliedMeta = '';
  private readonly incarnation = randomUUID();

  constructor(private readonly o: FollowerApplyOptions) {}

  private refused = 0;
  private readonly senderSeqs = new SenderSeqs();
  /** The clock's time of the last frame from a leader that this broker applied, or null. */
  private lastAppliedAt: number | null = null;

  /** Milliseconds since the last frame from a leader was applied, or null if none ever was. */
  msSinceLastFrame(): number | null {
    return this.lastAppliedAt === null ? null : this.o.clock.now() - this.lastAppliedAt;
  }

  /**
   * Obey `frame` only if `auth` (the x-yak-frame-auth header) proves it was signed by the
   * leadership of the epoch it names: otherwise it is refused with 401 before anything is
   * decoded, waited for or changed. `onAuthenticated` is called once the MAC matched (before the
   * frame is applied): the HTTP layer then stops counting the body among the unauthenticated ones.
   */
  async handle(frame: Buffer, auth: string | string[] | undefined, onAuthenticated?: () => void): Promise<Buffer> {
    const signed = await this.authenticate(frame, auth);
    onAuthenticated?.();
    const run = this.chain.then(() => this.apply(frame, signed.epoch));
    this.chain = run.catch(() => {});
    return run.then(({ answer, sign }) => {
      const bytes = encodeAnswer(answer);
      // Signed only when the (signed) frame asked: an older leader would not read the trailer.
      return sign ? signAnswer(signed.key, signed.epoch, signed.mac, bytes) : bytes;
    });
  }

  /**
   * Before a POSTed frame's body is read: refuse at once (401) what can never authenticate, a
   * missing or malformed x-yak-frame-auth or an epoch with no frame key in Redis, so no body is read
   * for it. Answers whether `sender` (x-yak-frame-sender, sender-proof.ts) proves the poster holds
   * that epoch's key: the HTTP layer lets such a body skip the queue of unauthenticated ones. The
   * frame's own MAC is still checked by handle() once the body is read.
   */
  async admit(auth: string | string[] | undefined, sender: string | string[] | undefined, length: number): Promise<boolean> {
    const claim = parseFrameAuth(auth);
    if (!claim) throw this.refuse(`a replication frame needs a valid ${FRAME_AUTH_HEADER} header`);
    const key = await this.o.frameKey(claim.epoch);
    if (!key) throw this.refuse(`no leadership with epoch ${claim.epoch} is known in Redis`);
    return senderProven(sender, claim.epoch, key, length, this.senderSeqs);
  }

  private async authenticate(frame: Buffer, auth: string | string[] | undefined): Promise<{ epoch: number; key: Buffer; mac: Buffer }> {
    const claim = parseFrameAuth(auth);
    if (!claim) throw this.refuse(`a replication frame needs a valid ${FRAME_AUTH_HEADER} header`);
    const key = await this.o.frameKey(claim.epoch);
    if (!key) throw this.refuse(`no leadership with epoch ${claim.epoch} is known in Redis`);
    if (!macMatches(key, frame, claim.mac)) throw this.refuse(`the frame is not signed by the leader of epoch ${claim.epoch}`);
    return { epoch: claim.epoch, key, mac: claim.mac };
  }

  /** A 401; logged once per 1,000 so a flood of forged frames cannot flood the log too. */
  private refuse(why: string): Error {
    // Not always an attack: the leader of another cluster (another Redis, database or --cluster) that
    // still lists this broker's URL sends the same frames, so the line names both.
    if (this.refused++ % 1000 === 0) this.o.log('warn', `refused an unauthenticated replication frame (${this.refused} so far): ${why} (a forged frame, or the leader of another cluster — another --redis, database or --cluster — that still lists this broker's URL)`);
    return unauthenticated(`${why}; only the current leader may replicate to this broker`);
  }

  /** The answer to `frame`, and whether the frame asked for it signed (answer-auth.ts). */
  private async apply(frame: Buffer, signedEpoch: number): Promise<{ answer: ReplicateAnswer; sign: boolean }> {
    let decoded: ReturnType<typeof decodeFrame>;
    try {
      decoded = decodeFrame(frame);
    } catch (err) {
      return { answer: { ok: false, error: 'INVALID_REQUEST', message: (err as Error).message }, sign: false };
    }
    return { answer: await this.applyDecoded(decoded, signedEpoch), sign: decoded.header.answerAuth !== undefined };
  }

  private async applyDecoded(decoded: ReturnType<typeof decodeFrame>, signedEpoch: number): Promise<ReplicateAnswer> {
    const { header, payloads } = decoded;
    if (header.epoch !== signedEpoch) throw this.refuse(`the frame names epoch ${header.epoch} but is signed for epoch ${signedEpoch}`);
    const known = this.o.currentEpoch();
    if (header.epoch < known || (header.epoch === known && this.o.isLeader())) {
      return { ok: false, error: 'STALE_EPOCH', message: `epoch ${header.epoch} is not newer than ${known}`, epoch: known };
    }
    await this.o.observeEpoch(header.epoch, { id: header.leader.id, url: header.leader.url, epoch: header.epoch });
    if (header.topics) {
      await this.o.applyTopics(header.topics);
      this.appliedMeta = header.metaVersion;
    }
    const parts: PartState[] = [];
    for (let i = 0; i < header.parts.length; i++) {
      const part = header.parts[i]!;
      const bytes = payloads[i]!;
      const log = this.o.logs.partition(part.topic, part.partition);
      if (!log) {
        parts.push({ topic: part.topic, partition: part.partition, status: 'mismatch', logEndOffset: 0, epochs: [] });
        continue;
      }
      const mismatch = (refused?: string): PartState => {
        const state: PartState = { topic: log.topic, partition: log.partition, status: 'mismatch', logEndOffset: log.logEndOffset(), epochs: log.epochs() };
        if (refused !== undefined) state.refused = refused;
        if (log.logStartOffset() > 0) state.logStart = log.logStartOffset();
        return state;
      };
      // cutWhenTold: no epoch at the cut, so whatever is held there counts as a conflict.
      const request = this.o.rules?.cutWhenTold ? { ...part, truncateEpoch: undefined } : part;
      const cut = decideTruncation({ epochs: log.epochs(), logEnd: log.logEndOffset(), highWatermark: log.highWatermark() }, { ...request, leaderEpoch: header.epoch });
      if (cut.action === 'refuse') {
        this.o.log('warn', `${log.topic}/${log.partition}: refusing leader ${header.leader.id} (epoch ${header.epoch}): ${cut.reason}`);
        parts.push(mismatch(cut.reason));
        continue;
      }
      if (cut.action === 'cut') {
        if (cut.to < log.logStartOffset()) {
          // Below our log start there is nothing to cut to: tell the leader where we start.
          parts.push(mismatch());
          continue;
        }
        this.o.log('info', `${log.topic}/${log.partition}: truncating divergent tail ${cut.to}..${log.logEndOffset()} (leader ${header.leader.id}, epoch ${header.epoch})`);
        await log.truncateTo(cut.to);
      }
      const start = decideFollowerLogStart({ logStart: log.logStartOffset(), logEnd: log.logEndOffset(), highWatermark: log.highWatermark() }, part.logStart);
      if (start.action === 'restart') {
        this.o.log('info', `${log.topic}/${log.partition}: our log ends at ${log.logEndOffset()}, below the leader's log start ${start.at}: restarting it empty there`);
        await log.restartAt(start.at);
      }
      const continues = continuesLog({ logStart: log.logStartOffset(), logEnd: log.logEndOffset(), epochAt: (o) => epochAt(log.epochs(), o) }, part.prevOffset, part.prevEpoch);
      if (!continues) {
        parts.push(mismatch());
        continue;
      }
      if (bytes.length > 0) {
        try {
          const { count } = await log.appendRaw(bytes);
          this.o.onApplied(bytes.length, count);
        } catch (err) {
          // A storage fault is logged once per condition (log/storage-health.ts), not once per frame.
          const storage = isStorageError(err) ? err.kind : undefined;
          if (!storage) this.o.log('warn', `${log.topic}/${log.partition}: refused records from ${header.leader.id}: ${(err as Error).message}`);
          parts.push({ topic: log.topic, partition: log.partition, status: 'mismatch', logEndOffset: log.logEndOffset(), epochs: log.epochs(), ...(storage && { storage }) });
          continue;
        }
      }
      const hwm = Math.min(part.hwm, log.logEndOffset());
      if (hwm > log.highWatermark()) {
        log.setHighWatermark(hwm);
        this.o.reads.notify(log);
      }
      const advance = decideFollowerLogStart({ logStart: log.logStartOffset(), logEnd: log.logEndOffset(), highWatermark: log.highWatermark() }, part.logStart);
      if (advance.action === 'advance') await log.advanceLogStart(advance.to);
      await log.leaderLogStartSeen?.(part.logStart ?? 0);
      parts.push({ topic: log.topic, partition: log.partition, status: 'ok', logEndOffset: log.logEndOffset() });
    }
    this.lastAppliedAt = this.o.clock.now();
    return { ok: true, metaVersion: this.appliedMeta, parts, incarnation: this.incarnation };
  }
}

