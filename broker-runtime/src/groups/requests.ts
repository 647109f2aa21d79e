import { invalidRequest } from '../errors/errors.js';
import type { Logger } from '../logger.js';
import type { Protocol } from './group.js';
import type { StoredRecord } from './offsets-log.js';

// The coordinator's limits, its host and its requests: what every transport (REST, Kafka) hands it.

/** Kafka's offset.metadata.max.bytes. */
export const MAX_OFFSET_METADATA_BYTES = 4096;
export const MAX_GROUP_MEMBERS = 1000;
export const MAX_PROTOCOL_METADATA_BYTES = 64 * 1024;
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
}

export interface SyncRequest {
  group: string;
  memberId: string;
  generation: number;
  /** From the leader only: every member's assignment. */
  assignments?: { memberId: string; assignment: Buffer }[];
}

export interface CommitRequest {
  group: string;
  /** '' with generation -1: a commit from outside the group, allowed only while it has no members (Kafka's rule). */
  memberId: string;
  generation: number;
  offsets: { topic: string; partition: number; offset: number; metadata?: string }[];
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

export function checkJoin(req: JoinRequest): void {
  if (typeof req.group !== 'string' || req.group.length === 0 || req.group.length > 255) throw invalidRequest('group must be a string of 1 to 255 characters');
  inRange('session timeout', req.sessionTimeoutMs, SESSION_TIMEOUT_MS);
  inRange('rebalance timeout', req.rebalanceTimeoutMs, REBALANCE_TIMEOUT_MS);
  if (req.protocolType.length === 0) throw invalidRequest('protocol type must not be empty');
  if (req.protocols.length === 0) throw invalidRequest('at least one protocol is needed');
  for (const p of req.protocols) {
    if (p.metadata.length > MAX_PROTOCOL_METADATA_BYTES) throw invalidRequest(`protocol '${p.name}' metadata is ${p.metadata.length} bytes; at most ${MAX_PROTOCOL_METADATA_BYTES}`);
  }
}

function inRange(what: string, value: number, range: { min: number; max: number }): void {
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) throw invalidRequest(`${what} must be an integer from ${range.min} to ${range.max} ms; got ${value}`);
}
