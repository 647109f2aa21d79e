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
  /** Only report the log's state (first contact, or after a mismatch). */
  probe?: boolean;
}

export interface ReplicateHeader {
  epoch: number;
  leader: { id: string; url: string };
  metaVersion: string;
  /** The full topic list, sent when the follower's metaVersion differs from the leader's. */
  topics?: TopicInfo[];
  parts: ReplicatePart[];
}

export interface PartState {
  topic: string;
  partition: number;
  status: 'ok' | 'mismatch';
  logEndOffset: number;
  /** The follower's leader-epoch cache, sent on a probe or mismatch so the leader can find where the logs diverge. */
  epochs?: EpochEntry[];
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
  const header = JSON.parse(frame.subarray(4, 4 + headLen).toString('utf8')) as ReplicateHeader;
  if (typeof header.epoch !== 'number' || !Array.isArray(header.parts)) throw new Error('replication frame header is malformed');
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

export function decodeAnswer(buf: Buffer): ReplicateAnswer {
  return JSON.parse(buf.toString('utf8')) as ReplicateAnswer;
}
