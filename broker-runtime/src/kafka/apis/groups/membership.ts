import { REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS } from '../../../groups/index.js';
import { checkGroup, principalName, type RequestContext } from '../../context.js';
import { KAFKA_ERRORS, KafkaError } from '../../protocol/error-codes.js';
import type { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import { groupCodeOf } from './group-codes.js';

/**
 * JoinGroup 0–3, SyncGroup 0–3, Heartbeat 0–3 and LeaveGroup 0–3 onto the group coordinator
 * (groups/coordinator.ts), which runs on the cluster leader. JoinGroup stops at v3: from v4 a new
 * member is first refused with MEMBER_ID_REQUIRED and joins again, a round this coordinator does
 * not need (it gives the member id in the join's own answer). Static membership
 * (group_instance_id, SyncGroup/Heartbeat v3) is read and ignored: every member is dynamic.
 */

// ---- JoinGroup

export interface JoinGroupRequest {
  group: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
}

export function decodeJoinGroup(r: Reader, version: number): JoinGroupRequest {
  const group = r.string();
  const sessionTimeoutMs = r.int32();
  // v0 has no rebalance timeout: the session timeout is both, as in Kafka.
  const rebalanceTimeoutMs = version >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string();
  const protocolType = r.string();
  const protocols = r.array((r) => ({ name: r.string(), metadata: r.bytes() }));
  return { group, sessionTimeoutMs, rebalanceTimeoutMs, memberId, protocolType, protocols };
}

export async function handleJoinGroup(req: JoinGroupRequest, ctx: RequestContext): Promise<Writer> {
  let answer: { error: number; generation: number; protocol: string; leader: string; memberId: string; members: { memberId: string; metadata: Buffer }[] };
  try {
    if (req.group === '') throw new KafkaError('INVALID_GROUP_ID', 'the group id is empty');
    checkGroup(ctx, req.group);
    const inRange = (v: number, r: { min: number; max: number }) => Number.isSafeInteger(v) && v >= r.min && v <= r.max;
    if (!inRange(req.sessionTimeoutMs, SESSION_TIMEOUT_MS) || !inRange(req.rebalanceTimeoutMs, REBALANCE_TIMEOUT_MS)) {
      throw new KafkaError('INVALID_SESSION_TIMEOUT', `session timeout must be ${SESSION_TIMEOUT_MS.min}-${SESSION_TIMEOUT_MS.max} ms and rebalance timeout ${REBALANCE_TIMEOUT_MS.min}-${REBALANCE_TIMEOUT_MS.max} ms`);
    }
    if (req.protocolType === '' || req.protocols.length === 0) throw new KafkaError('INCONSISTENT_GROUP_PROTOCOL', 'a protocol type and at least one protocol are needed');
    const joined = await ctx.backend.groups.join({
      group: req.group,
      memberId: req.memberId,
      clientId: ctx.clientId ?? '',
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      ...principalName(ctx),
    });
    answer = { error: 0, generation: joined.generation, protocol: joined.protocol, leader: joined.leaderId, memberId: joined.memberId, members: joined.members };
  } catch (err) {
    answer = { error: groupCodeOf(err), generation: -1, protocol: '', leader: '', memberId: req.memberId, members: [] };
  }
  const w = new Writer(128);
  if (ctx.apiVersion >= 2) w.int32(0);
  w.int16(answer.error).int32(answer.generation).string(answer.protocol).string(answer.leader).string(answer.memberId);
  w.array(answer.members, (w, m) => w.string(m.memberId).bytes(m.metadata));
  return w;
}

// ---- SyncGroup

export interface SyncGroupRequest {
  group: string;
  generation: number;
  memberId: string;
  assignments: { memberId: string; assignment: Buffer }[];
}

export function decodeSyncGroup(r: Reader, version: number): SyncGroupRequest {
  const group = r.string();
  const generation = r.int32();
  const memberId = r.string();
  if (version >= 3) r.nullableString(); // group_instance_id
  const assignments = r.array((r) => ({ memberId: r.string(), assignment: r.bytes() }));
  return { group, generation, memberId, assignments };
}

export async function handleSyncGroup(req: SyncGroupRequest, ctx: RequestContext): Promise<Writer> {
  let error = 0;
  let assignment: Buffer = Buffer.alloc(0);
  try {
    checkGroup(ctx, req.group);
    assignment = await ctx.backend.groups.sync({ group: req.group, memberId: req.memberId, generation: req.generation, assignments: req.assignments, ...principalName(ctx) });
  } catch (err) {
    error = groupCodeOf(err);
  }
  const w = new Writer(64);
  if (ctx.apiVersion >= 1) w.int32(0);
  return w.int16(error).bytes(assignment);
}

// ---- Heartbeat

export interface HeartbeatRequest {
  group: string;
  generation: number;
  memberId: string;
}

export function decodeHeartbeat(r: Reader, version: number): HeartbeatRequest {
  const group = r.string();
  const generation = r.int32();
  const memberId = r.string();
  if (version >= 3) r.nullableString(); // group_instance_id
  return { group, generation, memberId };
}

export function handleHeartbeat(req: HeartbeatRequest, ctx: RequestContext): Promise<Writer> {
  let error = 0;
  try {
    checkGroup(ctx, req.group);
    ctx.backend.groups.heartbeat(req.group, req.memberId, req.generation, principalName(ctx).principal);
  } catch (err) {
    error = groupCodeOf(err);
  }
  const w = new Writer(8);
  if (ctx.apiVersion >= 1) w.int32(0);
  return Promise.resolve(w.int16(error));
}

// ---- LeaveGroup

export interface LeaveGroupRequest {
  group: string;
  /** v0–2 name one member; v3 a list. */
  members: { memberId: string; instanceId: string | null }[];
}

export function decodeLeaveGroup(r: Reader, version: number): LeaveGroupRequest {
  const group = r.string();
  if (version < 3) return { group, members: [{ memberId: r.string(), instanceId: null }] };
  return { group, members: r.array((r) => ({ memberId: r.string(), instanceId: r.nullableString() })) };
}

export function handleLeaveGroup(req: LeaveGroupRequest, ctx: RequestContext): Promise<Writer> {
  const results = req.members.map((m) => {
    try {
      checkGroup(ctx, req.group);
      ctx.backend.groups.leave(req.group, m.memberId, principalName(ctx).principal);
      return { ...m, error: 0 };
    } catch (err) {
      return { ...m, error: groupCodeOf(err) };
    }
  });
  const w = new Writer(32);
  if (ctx.apiVersion >= 1) w.int32(0);
  if (ctx.apiVersion < 3) return Promise.resolve(w.int16(results[0]!.error));
  // v3: the top-level error is for the request as a whole (a coordinator that does not lead).
  const whole = results.find((r) => r.error === KAFKA_ERRORS.NOT_COORDINATOR || r.error === KAFKA_ERRORS.COORDINATOR_LOAD_IN_PROGRESS)?.error ?? 0;
  w.int16(whole);
  w.array(results, (w, r) => w.string(r.memberId).nullableString(r.instanceId).int16(r.error));
  return Promise.resolve(w);
}
