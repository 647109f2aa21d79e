/**
 * Every error the outside world can cause has a name (its wire `code`); its HTTP status and whether
 * it is retriable come from the one table in error-table.ts. They are written to HTTP in http/errors.ts.
 */
import { ERROR_TABLE, type ErrorCode } from './error-table.js';
import type { StorageError } from '../log/storage-error.js';

export type { ErrorCode };

export interface LeaderRef {
  id: string;
  url: string;
}

export class YakError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly retriable = false,
    /** Extra fields merged into the JSON error body (for example `leader` on NOT_LEADER). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }

  /** The error `code` with the table's status and retriable flag. */
  static of(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): YakError {
    const spec = ERROR_TABLE[code];
    return new YakError(code, spec.status, message, spec.retriable, extra);
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.extra };
  }
}

export const invalidJson = (message: string) => YakError.of('INVALID_JSON', message);
export const invalidRequest = (message: string) => YakError.of('INVALID_REQUEST', message);
export const unknownTopic = (topic: string) =>
  YakError.of('UNKNOWN_TOPIC', `topic '${topic}' does not exist; GET /topics lists the topics, and a produce (or POST /topics) creates one`);
export const unknownPartition = (topic: string, partition: number, count: number) =>
  YakError.of('UNKNOWN_PARTITION', `topic '${topic}' has partitions 0..${count - 1}; ${partition} does not exist`);
/** A consume below the partition's log start offset: those records were deleted by retention (Kafka's OFFSET_OUT_OF_RANGE). */
export const offsetOutOfRange = (topic: string, partition: number, offset: number, logStart: number) =>
  YakError.of('OFFSET_OUT_OF_RANGE', `offset ${offset} of ${topic}/${partition} is below the log start offset ${logStart} (deleted by retention); consume from ${logStart}`, {
    log_start_offset: logStart,
  });
export const topicExists = (topic: string) => YakError.of('TOPIC_EXISTS', `topic '${topic}' already exists`);
export const messageTooLarge = (size: number, limit: number) =>
  YakError.of('MESSAGE_TOO_LARGE', `request of ${size} bytes is over the limit of ${limit} bytes`);
/**
 * What a broker that names no leader still knows (a broker cut from Redis, or one mid-election):
 * the epoch, the leader it last saw, the other brokers it knows of and when to ask again — so a
 * client holding only this broker's URL can ask the others instead of waiting here.
 */
export interface NotLeaderHint {
  epoch: number;
  lastLeader: (LeaderRef & { epoch: number }) | null;
  brokers: LeaderRef[];
  retryAfterMs: number;
  redis: boolean;
}

export const notLeader = (leader: LeaderRef | null, hint?: NotLeaderHint) => {
  if (leader || !hint) {
    return YakError.of('NOT_LEADER', leader ? `this broker is not the leader; the leader is ${leader.id} at ${leader.url}` : 'this broker is not the leader and no leader is known yet', { leader });
  }
  const why = hint.redis ? 'no leader is known yet (an election is under way)' : 'this broker cannot reach Redis, so it does not know who leads now';
  const last = hint.lastLeader ? `; it last knew ${hint.lastLeader.id} at ${hint.lastLeader.url} (epoch ${hint.lastLeader.epoch})` : '';
  const others = hint.brokers.length > 0 ? `; ask another broker: ${hint.brokers.map((b) => b.url).join(', ')}` : '';
  return YakError.of('NOT_LEADER', `this broker is not the leader: ${why}${last}${others}`, {
    leader: null,
    epoch: hint.epoch,
    last_leader: hint.lastLeader,
    brokers: hint.brokers,
    retry_after_ms: hint.retryAfterMs,
    redis: hint.redis,
  });
};
export const notEnoughReplicas = (inSync: number, required: number, topic?: string) =>
  YakError.of(
    'NOT_ENOUGH_REPLICAS',
    `${inSync} in-sync replica(s), ${required} required (${topic === undefined ? '--min-insync' : `min.insync.replicas of topic ${topic}`}); nothing was written`,
    { in_sync: inSync, min_insync: required },
  );
export const staleEpoch = (got: number, known: number) =>
  YakError.of('STALE_EPOCH', `epoch ${got} is older than the known epoch ${known}`, { epoch: known });
/** The records were written but did not commit in time: they may still commit later (Kafka's REQUEST_TIMED_OUT). */
export const timeout = (message: string) => YakError.of('TIMEOUT', message, { outcome: 'unknown' });
/**
 * Leadership ended after the records were appended: the next leader may still commit them, so
 * this is not a refusal (a refusal changes nothing) but an unknown outcome.
 */
export const notCommitted = (message: string) => YakError.of('UNAVAILABLE', message, { outcome: 'unknown' });
export const unavailable = (message: string) => YakError.of('UNAVAILABLE', message);
/** No token, or one that names no principal with that secret (--auth-file). Never retriable. */
export const unauthenticated = (message: string) => YakError.of('UNAUTHENTICATED', message);
/** A known principal asking for something its permissions do not cover. Never retriable. */
export const forbidden = (message: string) => YakError.of('FORBIDDEN', message);
/** A principal over its byte quota: retriable once `retry_after_ms` (and the Retry-After header) has passed. */
export const throttled = (message: string, retryAfterMs: number) =>
  YakError.of('THROTTLED', message, { retry_after_ms: retryAfterMs });

/**
 * A storage fault (log/storage-error.ts) as the outside world sees it. Nothing reached the log:
 * `507 INSUFFICIENT_STORAGE`, a refusal (retriable: the fault may clear, or a healthy broker take
 * over as leader). Bytes may have reached the log and could not be removed: `503 UNAVAILABLE`
 * with `outcome: 'unknown'`, as for any write whose fate this broker cannot know.
 */
export function fromStorageError(err: StorageError): YakError {
  const extra = { storage: err.kind, errno: err.errno };
  if (err.torn) {
    return YakError.of('UNAVAILABLE', `a storage fault (${err.errno}) interrupted the write; it may or may not have happened`, { ...extra, outcome: 'unknown' });
  }
  return YakError.of('INSUFFICIENT_STORAGE', `the broker's storage refused the write (${err.kind}, ${err.errno}); nothing was written`, extra);
}

export function isYakError(err: unknown): err is YakError {
  return err instanceof YakError;
}
