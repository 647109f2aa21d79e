import { forbidden, invalidRequest } from '../errors/errors.js';
import type { Logger } from '../logger.js';
import type { Member, Protocol } from './group.js';
import type { StoredRecord } from './offsets-log.js';

// The coordinator's limits, its host and its requests: what every transport (REST, Kafka) hands it.

/** Kafka's offset.metadata.max.bytes. */
export const MAX_OFFSET_METADATA_BYTES = 4096;
/**
 * Offsets one commit may name (POST /groups/{g}/commit and Kafka's OffsetCommit alike): each is a
 * record in the offsets topic, which every new leader reads back whole. Without it one 8 MiB
 * OffsetCommit naming a partition 440,000 times (18 bytes each) wrote 440,000 records.
 */
export const MAX_COMMIT_OFFSETS = 10_000;
/** The default of --max-group-members (Kafka's group.max.size is unlimited by default; a bound is safer). */
export const MAX_GROUP_MEMBERS = 1000;

/** How much the coordinator holds at most (--max-groups, --max-group-members). */
export interface GroupLimits {
  maxGroups: number;
  maxMembers: number;
}

export const DEFAULT_GROUP_LIMITS: GroupLimits = { maxGroups: 10_000, maxMembers: MAX_GROUP_MEMBERS };
export const MAX_PROTOCOL_METADATA_BYTES = 64 * 1024;
/**
 * Protocols one member may list (Kafka consumers list their one to three assignors). Choosing the
 * group's protocol compares each member's names with every other member's: one member naming
 * 30,000 (~400 KB, one request) held the leader's event loop 6.5 s, 60,000 for 34 s, and no
 * lease is renewed meanwhile.
 */
export const MAX_PROTOCOLS_PER_MEMBER = 64;
/**
 * A group's members' protocol metadata and assignments together. Its generation is written to the
 * offsets topic as one record (base64 in JSON, 4/3 of this) that must stay well under the log's
 * 64 MiB record limit; 1000 members × 64 KiB would not fit, and such a group could never form a
 * generation (and would hold 64 MB of the leader's memory).
 */
export const MAX_GROUP_METADATA_BYTES = 16 * 1024 * 1024;

/** Bytes a member's protocols take in its group's record. */
export function memberMetadataBytes(protocols: readonly Protocol[]): number {
  return protocols.reduce((sum, p) => sum + p.metadata.length + Buffer.byteLength(p.name), 0);
}
export const SESSION_TIMEOUT_MS = { min: 100, max: 30 * 60_000 } as const;
export const REBALANCE_TIMEOUT_MS = { min: 100, max: 60 * 60_000 } as const;

/** What the coordinator needs from the broker it runs in: the clock, the internal topic, the logs. */
export interface CoordinatorHost {
  now(): number;
  /** Append to the internal topic; resolves once committed (replicated like any record), throws as a produce does. */
  append(records: StoredRecord[]): Promise<void>;
  /** The internal topic's committed record payloads, oldest first (waits until what this leader holds is committed). */
  readOffsetsTopic(): AsyncIterable<string>;
  partitionCount(topic: string): number | undefined;
  highWatermark(topic: string, partition: number): number;
  logStartOffset(topic: string, partition: number): number;
  /** The first offset whose record has timestamp >= `timestampMs` (the high-water mark when none has). */
  offsetForTimestamp(topic: string, partition: number, timestampMs: number): Promise<number>;
  /** The error for "this broker does not lead, ask the leader" (421 NOT_LEADER; Kafka's NOT_COORDINATOR). */
  notCoordinator(): Error;
  log: Logger;
}

export interface JoinRequest {
  group: string;
  /** '' for a new member. */
  memberId: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** `yak` for REST groups (the coordinator assigns); anything else (Kafka's `consumer`) is assigned by the group's leader member. */
  protocolType: string;
  protocols: Protocol[];
  /** The authenticated principal asking (undefined on an open broker): the member's owner. */
  principal?: string;
}

export interface SyncRequest {
  group: string;
  memberId: string;
  generation: number;
  /** From the leader only: every member's assignment. */
  assignments?: { memberId: string; assignment: Buffer }[];
  principal?: string;
}

export interface CommitRequest {
  group: string;
  /** '' with generation -1: a commit from outside the group, allowed only while it has no members (Kafka's rule). */
  memberId: string;
  generation: number;
  offsets: { topic: string; partition: number; offset: number; metadata?: string }[];
  principal?: string;
}

export interface ResetRequest {
  group: string;
  /** One topic, or (absent) every topic the group has committed offsets for. */
  topic?: string;
  partitions?: number[];
  to: { kind: 'earliest' } | { kind: 'latest' } | { kind: 'timestamp'; timestampMs: number } | { kind: 'offset'; offset: number };
  dryRun?: boolean;
}

export interface OffsetAnswer {
  topic: string;
  partition: number;
  committed_offset: number;
}

/** A refusal as a rejected promise, never a throw, whatever the caller awaits. */
export function settle<T>(f: () => Promise<T>): Promise<T> {
  try {
    return f();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A member's requests must come from the principal that joined it (Member.owner). */
export function checkOwner(group: string, member: Member, principal: string | undefined): void {
  if (member.owner !== undefined && member.owner !== principal) {
    throw forbidden(`member '${member.memberId}' of group '${group}' was joined by another principal; ${principal === undefined ? 'authenticate as it' : `principal '${principal}' may not act as it`}`);
  }
}

export function checkJoin(req: JoinRequest): void {
  checkGroupId(req.group);
  inRange('session timeout', req.sessionTimeoutMs, SESSION_TIMEOUT_MS);
  inRange('rebalance timeout', req.rebalanceTimeoutMs, REBALANCE_TIMEOUT_MS);
  if (req.protocolType.length === 0) throw invalidRequest('protocol type must not be empty');
  if (req.protocols.length === 0) throw invalidRequest('at least one protocol is needed');
  if (req.protocols.length > MAX_PROTOCOLS_PER_MEMBER) throw invalidRequest(`a member lists ${req.protocols.length} protocols; at most ${MAX_PROTOCOLS_PER_MEMBER} protocols`);
  for (const p of req.protocols) {
    if (p.metadata.length > MAX_PROTOCOL_METADATA_BYTES) throw invalidRequest(`protocol '${p.name}' metadata is ${p.metadata.length} bytes; at most ${MAX_PROTOCOL_METADATA_BYTES}`);
  }
}

function inRange(what: string, value: number, range: { min: number; max: number }): void {
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) throw invalidRequest(`${what} must be an integer from ${range.min} to ${range.max} ms; got ${value}`);
}

/**
 * A group's name, wherever a group may be created (a join, a commit, a reset): Kafka's own group ids
 * are any string, REST's follow the topic-name pattern; both at most 255 characters. A Kafka
 * OffsetCommit from outside a group created it with any name up to 32 KB: 10,000 such groups held
 * 320 MB of names, repeated in every offset record.
 */
export function checkGroupId(group: unknown): void {
  if (typeof group !== 'string' || group.length === 0 || group.length > 255) throw invalidRequest('group must be a string of 1 to 255 characters');
}
