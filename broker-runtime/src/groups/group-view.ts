import type { TopicPartition } from './assignors.js';
import type { Group, Member } from './group.js';
import { offsetKey } from './group.js';
import { decodeKafkaAssignment } from './kafka-consumer-protocol.js';
import { YAK_PROTOCOL_TYPE, decodeAssignment, decodeSubscription } from './rest-protocol.js';

/** GET /groups/{group}: what a group is now, with each partition's lag (high-water mark − committed offset). */
export interface GroupView {
  group: string;
  state: string;
  protocol_type: string;
  protocol: string;
  generation: number;
  leader: string | null;
  members: { member_id: string; client_id: string; session_timeout_ms: number; rebalance_timeout_ms: number; topics: string[]; partitions: TopicPartition[] }[];
  /** Every partition with a committed offset or held by a member; `committed_offset` and `lag` are null where nothing was committed yet. */
  offsets: { topic: string; partition: number; committed_offset: number | null; high_watermark: number; lag: number | null; metadata: string; commit_timestamp: number | null; member_id: string | null }[];
  /** Sum of the partitions' lag. */
  lag: number;
}

export interface GroupSummary {
  group: string;
  state: string;
  protocol_type: string;
  generation: number;
  members: number;
  lag: number;
}

export function memberPartitions(group: Group, member: Member): TopicPartition[] {
  if (group.protocolType === YAK_PROTOCOL_TYPE) return decodeAssignment(member.assignment);
  if (group.protocolType === 'consumer') return decodeKafkaAssignment(member.assignment);
  return [];
}

export function describeGroup(group: Group, highWatermarkOf: (topic: string, partition: number) => number): GroupView {
  const members = [...group.members.values()].map((m) => ({
    member_id: m.memberId,
    client_id: m.clientId,
    session_timeout_ms: m.sessionTimeoutMs,
    rebalance_timeout_ms: m.rebalanceTimeoutMs,
    topics: group.protocolType === YAK_PROTOCOL_TYPE ? decodeSubscription(group.metadataOf(m, group.protocol || m.protocols[0]?.name || '')) : [],
    partitions: memberPartitions(group, m),
  }));
  const holder = new Map<string, string>();
  for (const m of members) for (const p of m.partitions) holder.set(offsetKey(p.topic, p.partition), m.member_id);
  const rows = new Map<string, GroupView['offsets'][number]>();
  for (const [key, c] of group.offsets) {
    const highWatermark = highWatermarkOf(c.topic, c.partition);
    rows.set(key, { topic: c.topic, partition: c.partition, committed_offset: c.offset, high_watermark: highWatermark, lag: Math.max(0, highWatermark - c.offset), metadata: c.metadata, commit_timestamp: c.commitTimestamp, member_id: holder.get(key) ?? null });
  }
  for (const [key, memberId] of holder) {
    if (rows.has(key)) continue;
    const [topic, partition] = [key.slice(0, key.lastIndexOf('\u0000')), Number(key.slice(key.lastIndexOf('\u0000') + 1))];
    rows.set(key, { topic, partition, committed_offset: null, high_watermark: highWatermarkOf(topic, partition), lag: null, metadata: '', commit_timestamp: null, member_id: memberId });
  }
  const offsets = [...rows.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  return {
    group: group.id,
    state: group.state,
    protocol_type: group.protocolType,
    protocol: group.protocol,
    generation: group.generation,
    leader: group.leaderId || null,
    members,
    offsets,
    lag: offsets.reduce((sum, row) => sum + (row.lag ?? 0), 0),
  };
}

export function summarizeGroup(group: Group, highWatermark: (topic: string, partition: number) => number): GroupSummary {
  let lag = 0;
  for (const c of group.offsets.values()) lag += Math.max(0, highWatermark(c.topic, c.partition) - c.offset);
  return { group: group.id, state: group.state, protocol_type: group.protocolType, generation: group.generation, members: group.members.size, lag };
}
