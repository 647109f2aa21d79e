import { checkTopicConfig } from '../log/topic-config.js';
import type { EpochEntry, TopicInfo } from '../log/types.js';

/**
 * The leader -> follower replication frame (POST /replica/append, application/octet-stream):
 *
 *   u32 headerLength | header (UTF-8 JSON, ReplicateHeader) | part bytes, in header order
 *
 * Part bytes are records exactly as the leader stores them, so the follower checks CRCs and
 * appends them unchanged: nothing is decoded or re-encoded on the way. The answer is small JSON.
 */
export interface ReplicatePart {
  topic: string;
  partition: number;
  /** The follower's log must end here for `length` bytes to be appended (Raft's prevLogIndex). */
  prevOffset: number;
  /** Epoch of the leader's record at prevOffset - 1 (-1 when prevOffset is 0). */
  prevEpoch: number;
  /** The leader's high-water mark for the partition. */
  hwm: number;
  /** Bytes of records that follow for this part (0 for a heartbeat or a probe). */
  length: number;
  /** Cut the follower's log to this offset before anything else (divergent tail). */
  truncateTo?: number;
  /**
   * Epoch of the leader's record at truncateTo (-1 if it has none). The follower cuts only if its
   * record there is from neither this epoch nor the sender's: a retried or late request must not
   * cut records the follower has since received from this leader (Raft: truncate only on conflict).
   */
  truncateEpoch?: number;
  /**
   * Sent with truncateTo: the leader's log end and its epoch cache from the entry covering
   * truncateTo on. A follower cuts below its own high-water mark only when these show the leader
   * holds those records (divergence.ts, leaderHoldsCommitted).
   */
  leaderEnd?: number;
  leaderEpochs?: EpochEntry[];
  /** Only report the log's state (first contact, or after a mismatch). */
  probe?: boolean;
  /**
   * The leader's log start offset (sent when above 0): the follower raises its own to it, deleting
   * whole segments below, or restarts its log there when all it holds is below (log-start.ts).
   */
  logStart?: number;
}

export interface ReplicateHeader {
  epoch: number;
  leader: { id: string; url: string };
  metaVersion: string;
  /**
   * Sent when the follower's metaVersion differs from the leader's: every topic on first contact,
   * then only the topics created or changed since the last list the follower confirmed (it never
   * removes a topic, so a partial list is applied the same way).
   */
  topics?: TopicInfo[];
  parts: ReplicatePart[];
  /**
   * Asks the follower to sign its answer (answer-auth.ts): `seq` only grows within the leader
   * process, so every frame's MAC, which the answer's signature covers, is unique; `follower` is the
   * id the leader sends to. Older followers ignore it and answer unsigned.
   */
  answerAuth?: { seq: number; follower: string };
}

export interface PartState {
  topic: string;
  partition: number;
  status: 'ok' | 'mismatch';
  logEndOffset: number;
  /** The follower's leader-epoch cache, sent on a probe or mismatch so the leader can find where the logs diverge. */
  epochs?: EpochEntry[];
  /** Why the follower refused the truncation it was asked for (it would have cut committed records). */
  refused?: string;
  /** The follower's storage refused the records (a full disk, an I/O error): the leader backs off. */
  storage?: string;
  /** The follower's log start offset, on a mismatch when above 0: its epochs below it mean nothing. */
  logStart?: number;
}

export type ReplicateAnswer =
  | {
      ok: true;
      metaVersion: string;
      parts: PartState[];
      /** Changes each time the follower process starts: the leader then forgets what it knew of its log. */
      incarnation: string;
    }
  | { ok: false; error: string; message: string; epoch?: number };

export function encodeFrame(header: ReplicateHeader, payloads: Buffer[]): Buffer {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(head.length, 0);
  return Buffer.concat([prefix, head, ...payloads]);
}

export function decodeFrame(frame: Buffer): { header: ReplicateHeader; payloads: Buffer[] } {
  if (frame.length < 4) throw new Error('replication frame shorter than its header length');
  const headLen = frame.readUInt32BE(0);
  if (4 + headLen > frame.length) throw new Error('replication frame header runs past the frame');
  const header = JSON.parse(frame.subarray(4, 4 + headLen).toString('utf8')) as unknown;
  checkHeader(header);
  const payloads: Buffer[] = [];
  let pos = 4 + headLen;
  for (const part of header.parts) {
    if (!Number.isSafeInteger(part.length) || part.length < 0 || pos + part.length > frame.length) {
      throw new Error('replication frame part runs past the frame');
    }
    payloads.push(frame.subarray(pos, pos + part.length));
    pos += part.length;
  }
  return { header, payloads };
}

export function encodeAnswer(answer: ReplicateAnswer): Buffer {
  return Buffer.from(JSON.stringify(answer), 'utf8');
}

/**
 * A follower's answer (its JSON, once its signature was checked: answer-auth.ts), every field the
 * leader reads checked first: an older follower's answer is not signed, so one that does not
 * have the shape a broker writes throws, and the leader counts it as a failed request instead of
 * reading `matched` offsets of NaN or a string out of it.
 */
export function decodeAnswer(buf: Buffer): ReplicateAnswer {
  const a = JSON.parse(buf.toString('utf8')) as unknown;
  const bad = (what: string): never => {
    throw new Error(`replication answer: ${what}`);
  };
  if (typeof a !== 'object' || a === null) bad('not an object');
  const o = a as Record<string, unknown>;
  if (o.ok === false) {
    if (typeof o.error !== 'string' || typeof o.message !== 'string') bad('a refusal needs error and message');
    if (o.epoch !== undefined && !isCount(o.epoch)) bad('epoch must be a non-negative safe integer');
    return a as ReplicateAnswer;
  }
  if (o.ok !== true) bad('ok must be true or false');
  if (typeof o.metaVersion !== 'string' || typeof o.incarnation !== 'string' || !Array.isArray(o.parts)) bad('needs metaVersion, incarnation and parts');
  for (const p of o.parts as unknown[]) {
    const part = (typeof p === 'object' && p !== null ? p : bad('each part must be an object')) as Record<string, unknown>;
    if ((part.status !== 'ok' && part.status !== 'mismatch') || !isCount(part.logEndOffset)) bad('each part needs status and logEndOffset');
    if (part.epochs !== undefined && !isEpochList(part.epochs)) bad('epochs must be a list of {epoch, startOffset}');
    if (part.logStart !== undefined && !isCount(part.logStart)) bad('logStart must be a non-negative safe integer');
    if ((part.refused !== undefined && typeof part.refused !== 'string') || (part.storage !== undefined && typeof part.storage !== 'string')) bad('refused and storage must be text');
  }
  return a as ReplicateAnswer;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isEpochOrNone = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= -1;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024;

/** More epochs than this in one proof is not a log this broker wrote. */
const MAX_PROOF_EPOCHS = 10_000;

function isEpochList(v: unknown): v is EpochEntry[] {
  if (!Array.isArray(v) || v.length > MAX_PROOF_EPOCHS) return false;
  let prev: EpochEntry | undefined;
  for (const e of v as unknown[]) {
    const { epoch, startOffset } = (e ?? {}) as Record<string, unknown>;
    if (!isCount(epoch) || !isCount(startOffset)) return false;
    if (prev && (epoch <= prev.epoch || startOffset <= prev.startOffset)) return false;
    prev = { epoch, startOffset };
  }
  return true;
}

/**
 * Every field of a frame header is checked before any of it is obeyed: a frame is the most
 * powerful request a broker takes (it can cut a log), so a malformed one is refused whole.
 */
function checkHeader(h: unknown): asserts h is ReplicateHeader {
  const bad = (what: string): never => {
    throw new Error(`replication frame header: ${what}`);
  };
  if (typeof h !== 'object' || h === null) bad('not an object');
  const o = h as Record<string, unknown>;
  if (!isCount(o.epoch) || o.epoch < 1) bad('epoch must be a positive safe integer');
  const leader = o.leader as Record<string, unknown> | null | undefined;
  if (typeof leader !== 'object' || leader === null || !isText(leader.id) || !isText(leader.url)) bad('leader must be {id, url}');
  if (typeof o.metaVersion !== 'string') bad('metaVersion must be a string');
  if (o.topics !== undefined) {
    if (!Array.isArray(o.topics)) bad('topics must be a list');
    for (const t of o.topics as unknown[]) {
      const tt = t as Record<string, unknown> | null;
      if (typeof tt !== 'object' || tt === null || !isText(tt.name) || !isCount(tt.partitions) || tt.partitions < 1) bad('each topic must be {name, partitions, config?}');
      if (tt!.config !== undefined && typeof checkTopicConfig(tt!.config) === 'string') bad(`topic config: ${checkTopicConfig(tt!.config) as string}`);
    }
  }
  if (o.answerAuth !== undefined) {
    const aa = o.answerAuth as Record<string, unknown> | null;
    if (typeof aa !== 'object' || aa === null || !isCount(aa.seq) || !isText(aa.follower)) bad('answerAuth must be {seq, follower}');
  }
  if (!Array.isArray(o.parts)) bad('parts must be a list');
  for (const p of o.parts as unknown[]) {
    const pp = p as Record<string, unknown> | null;
    if (typeof pp !== 'object' || pp === null) bad('each part must be an object');
    const part = pp as Record<string, unknown>;
    if (!isText(part.topic) || !isCount(part.partition) || !isCount(part.prevOffset) || !isEpochOrNone(part.prevEpoch) || !isCount(part.hwm) || !isCount(part.length)) {
      bad('each part needs topic, partition, prevOffset, prevEpoch, hwm and length');
    }
    if (part.truncateTo !== undefined && !isCount(part.truncateTo)) bad('truncateTo must be a non-negative safe integer');
    if (part.truncateEpoch !== undefined && !isEpochOrNone(part.truncateEpoch)) bad('truncateEpoch must be an epoch or -1');
    if (part.leaderEnd !== undefined && !isCount(part.leaderEnd)) bad('leaderEnd must be a non-negative safe integer');
    if (part.logStart !== undefined && (!isCount(part.logStart) || part.logStart > (part.hwm as number))) bad('logStart must be a non-negative safe integer, at most hwm');
    if (part.leaderEpochs !== undefined && !isEpochList(part.leaderEpochs)) bad(`leaderEpochs must be at most ${MAX_PROOF_EPOCHS} {epoch, startOffset}, increasing in both`);
  }
}
