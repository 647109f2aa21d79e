import { invalidRequest } from '../errors/errors.js';
import { STRATEGIES, isStrategy, type Strategy } from '../groups/assignors.js';
import type { ResetRequest } from '../groups/coordinator.js';
import { MAX_COMMIT_OFFSETS } from '../groups/requests.js';
import { clip } from './errors.js';
import { topicName } from './validate.js';

/**
 * Request shapes of the /groups routes, checked completely before the coordinator is asked
 * anything; every failure is INVALID_REQUEST naming the field.
 */

/** Group names on the REST paths: the topic-name alphabet (a Kafka client may use any string over its own protocol). */
export const GROUP_NAME = /^[A-Za-z0-9._-]{1,249}$/;
/** REST members' defaults: a heartbeat every few seconds keeps a member; a rebalance waits as long for the others to join again. */
export const REST_SESSION_TIMEOUT_MS = { min: 100, max: 300_000, fallback: 10_000 } as const;
/** A join waits up to the rebalance timeout inside one HTTP request, so it stays below the server's request timeouts. */
export const REST_REBALANCE_TIMEOUT_MS = { min: 100, max: 60_000 } as const;
export const MAX_SUBSCRIBED_TOPICS = 1000;

type JsonObject = Record<string, unknown>;

export function groupName(value: unknown): string {
  if (typeof value !== 'string' || !GROUP_NAME.test(value)) {
    throw invalidRequest(`group '${clip(String(value))}' is not a valid group name: 1-249 characters of A-Z a-z 0-9 . _ -`);
  }
  return value;
}

export interface RestJoin {
  memberId: string;
  clientId: string;
  topics: string[];
  strategy: Strategy;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
}

/** POST /groups/{group}/join: `{topics, member_id?, client_id?, strategy?, session_timeout_ms?, rebalance_timeout_ms?}`. */
export function parseJoin(body: unknown): RestJoin {
  const obj = only(body, ['topics', 'member_id', 'client_id', 'strategy', 'session_timeout_ms', 'rebalance_timeout_ms']);
  const list = obj['topics'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SUBSCRIBED_TOPICS) throw invalidRequest(`topics is required: an array of 1 to ${MAX_SUBSCRIBED_TOPICS} topic names`);
  const topics = [...new Set(list.map((t, i) => topicName(t, `topics[${i}]`)))].sort();
  const strategy = obj['strategy'] ?? 'range';
  if (!isStrategy(strategy)) throw invalidRequest(`strategy must be one of ${STRATEGIES.join(', ')}`);
  const sessionTimeoutMs = int(obj, 'session_timeout_ms', REST_SESSION_TIMEOUT_MS.min, REST_SESSION_TIMEOUT_MS.max) ?? REST_SESSION_TIMEOUT_MS.fallback;
  const rebalanceTimeoutMs = int(obj, 'rebalance_timeout_ms', REST_REBALANCE_TIMEOUT_MS.min, REST_REBALANCE_TIMEOUT_MS.max) ?? Math.min(sessionTimeoutMs, REST_REBALANCE_TIMEOUT_MS.max);
  return { memberId: optString(obj, 'member_id', 300) ?? '', clientId: optString(obj, 'client_id', 200) ?? 'rest', topics, strategy, sessionTimeoutMs, rebalanceTimeoutMs };
}

/** POST /groups/{group}/heartbeat: `{member_id, generation}`. */
export function parseHeartbeat(body: unknown): { memberId: string; generation: number } {
  const obj = only(body, ['member_id', 'generation']);
  return { memberId: reqString(obj, 'member_id'), generation: reqInt(obj, 'generation', 0) };
}

/** POST /groups/{group}/leave: `{member_id}`. */
export function parseLeave(body: unknown): { memberId: string } {
  return { memberId: reqString(only(body, ['member_id']), 'member_id') };
}

export interface RestCommit {
  memberId: string;
  generation: number;
  offsets: { topic: string; partition: number; offset: number; metadata?: string }[];
}

/** POST /groups/{group}/commit: `{member_id?, generation?, offsets:[{topic, partition, offset, metadata?}]}` (no member: only while the group has none). */
export function parseCommit(body: unknown): RestCommit {
  const obj = only(body, ['member_id', 'generation', 'offsets']);
  const list = obj['offsets'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_COMMIT_OFFSETS) throw invalidRequest(`offsets is required: an array of 1 to ${MAX_COMMIT_OFFSETS} {topic, partition, offset, metadata?}`);
  const offsets = list.map((entry: unknown, i) => {
    const e = only(entry, ['topic', 'partition', 'offset', 'metadata'], `offsets[${i}]`);
    const metadata = e['metadata'];
    if (metadata !== undefined && metadata !== null && typeof metadata !== 'string') throw invalidRequest(`offsets[${i}].metadata must be a string`);
    return {
      topic: topicName(e['topic'], `offsets[${i}].topic`),
      partition: reqInt(e, 'partition', 0, `offsets[${i}].`),
      offset: reqInt(e, 'offset', 0, `offsets[${i}].`),
      ...(typeof metadata === 'string' ? { metadata } : {}),
    };
  });
  const memberId = optString(obj, 'member_id', 300) ?? '';
  const generation = int(obj, 'generation', -1, Number.MAX_SAFE_INTEGER) ?? -1;
  if ((memberId === '') !== (generation < 0)) throw invalidRequest('member_id and generation go together: both (a member commits) or neither (a commit from outside the group, only while it has no members)');
  return { memberId, generation, offsets };
}

/** POST /groups/{group}/reset: `{to: earliest|latest|timestamp|offset, topic?, partitions?, timestamp?, offset?, dry_run?}`. */
export function parseReset(group: string, body: unknown): ResetRequest {
  const obj = only(body, ['to', 'topic', 'partitions', 'timestamp', 'offset', 'dry_run']);
  const kind = obj['to'];
  let to: ResetRequest['to'];
  if (kind === 'earliest' || kind === 'latest') to = { kind };
  else if (kind === 'timestamp') to = { kind, timestampMs: reqInt(obj, 'timestamp', 0) };
  else if (kind === 'offset') to = { kind, offset: reqInt(obj, 'offset', 0) };
  else throw invalidRequest("to is required: 'earliest', 'latest', 'timestamp' (with timestamp, ms since the epoch) or 'offset' (with offset)");
  if (kind !== 'timestamp' && obj['timestamp'] !== undefined) throw invalidRequest("timestamp goes with to: 'timestamp'");
  if (kind !== 'offset' && obj['offset'] !== undefined) throw invalidRequest("offset goes with to: 'offset'");
  const req: ResetRequest = { group, to };
  if (obj['topic'] !== undefined) req.topic = topicName(obj['topic'], 'topic');
  const parts = obj['partitions'];
  if (parts !== undefined) {
    if (req.topic === undefined) throw invalidRequest('partitions needs a topic');
    if (!Array.isArray(parts) || parts.length === 0 || parts.some((p) => !Number.isSafeInteger(p) || (p as number) < 0)) throw invalidRequest('partitions must be a non-empty array of non-negative integers');
    req.partitions = [...new Set(parts as number[])].sort((a, b) => a - b);
  }
  const dry = obj['dry_run'];
  if (dry !== undefined && typeof dry !== 'boolean') throw invalidRequest('dry_run must be true or false');
  if (dry) req.dryRun = true;
  return req;
}

function only(body: unknown, fields: string[], what = 'the request body'): JsonObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest(`${what} must be a JSON object`);
  for (const k of Object.keys(body)) if (!fields.includes(k)) throw invalidRequest(`${what}: unknown field '${clip(k, 40)}' (expected ${fields.join(', ')})`);
  return body as JsonObject;
}

function int(obj: JsonObject, field: string, min: number, max: number, at = ''): number | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw invalidRequest(`${at}${field} must be an integer from ${min} to ${max}`);
  return v;
}

function reqInt(obj: JsonObject, field: string, min: number, at = ''): number {
  const v = int(obj, field, min, Number.MAX_SAFE_INTEGER, at);
  if (v === undefined) throw invalidRequest(`${at}${field} is required (an integer >= ${min})`);
  return v;
}

function optString(obj: JsonObject, field: string, maxLength: number): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) throw invalidRequest(`${field} must be a string of 1 to ${maxLength} characters`);
  return v;
}

function reqString(obj: JsonObject, field: string): string {
  const v = optString(obj, field, 300);
  if (v === undefined) throw invalidRequest(`${field} is required`);
  return v;
}
