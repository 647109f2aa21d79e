import type { CompactionRule } from '../log/compaction.js';
import type { Group, Member, Protocol } from './group.js';
import { offsetKey } from './group.js';

/**
 * What the coordinator writes to the internal topic `__consumer_offsets` (as Kafka does): a record
 * per committed offset, keyed by group/topic/partition, and a record per completed generation of a
 * group, keyed by group. The topic is replicated like any other, so what it holds survives leader
 * failover, broker restarts and the loss of Redis's data; a new leader reads it back (rebuild).
 * Records are JSON, so `yak consume __consumer_offsets` shows them as they are.
 */
export const OFFSETS_TOPIC = '__consumer_offsets';

export interface OffsetRecord {
  type: 'offset';
  group: string;
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
  commit_timestamp: number;
  /** Written by an offset reset: the only record allowed to move a committed offset backwards. */
  reset?: true;
}

export interface GroupRecord {
  type: 'group';
  group: string;
  generation: number;
  protocol_type: string;
  protocol: string;
  leader: string;
  members: {
    member_id: string;
    client_id: string;
    session_timeout_ms: number;
    rebalance_timeout_ms: number;
    protocols: { name: string; metadata: string }[];
    assignment: string;
    /** Member.owner: kept across failovers, so a rebuilt member is still only its principal's. */
    principal?: string;
  }[];
}

export interface StoredRecord {
  key: string;
  payload: string;
}

export function offsetRecord(r: Omit<OffsetRecord, 'type'>): StoredRecord {
  return { key: JSON.stringify(['offset', r.group, r.topic, r.partition]), payload: JSON.stringify({ type: 'offset', ...r }) };
}

export function groupRecord(group: Group): StoredRecord {
  const record: GroupRecord = {
    type: 'group',
    group: group.id,
    generation: group.generation,
    protocol_type: group.protocolType,
    protocol: group.protocol,
    leader: group.leaderId,
    members: [...group.members.values()].map((m) => ({
      member_id: m.memberId,
      client_id: m.clientId,
      session_timeout_ms: m.sessionTimeoutMs,
      rebalance_timeout_ms: m.rebalanceTimeoutMs,
      protocols: m.protocols.map((p) => ({ name: p.name, metadata: p.metadata.toString('base64') })),
      assignment: m.assignment.toString('base64'),
      ...(m.owner !== undefined ? { principal: m.owner } : {}),
    })),
  };
  return { key: JSON.stringify(['group', group.id]), payload: JSON.stringify(record) };
}

/**
 * Builds groups back from the topic's records, oldest first. Offsets: the largest committed wins,
 * except that a reset record sets the value outright — the same rule commits follow live, so two
 * commits racing to the log cannot make an offset go backwards on a rebuild. Groups: the record of
 * the highest generation wins; its members come back with a fresh session (now + session timeout),
 * so a failover does not force a rebalance, and a member that is gone expires as usual.
 */
export class GroupRebuilder {
  readonly groups = new Map<string, Group>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly make: (id: string) => Group,
    private readonly now: () => number,
  ) {}

  apply(payload: string): void {
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch {
      return; // not ours: the topic is internal, but skip rather than stop the leader
    }
    const r = value as { type?: unknown; group?: unknown } | null;
    if (!r || typeof r.group !== 'string') return;
    if (r.type === 'offset') this.applyOffset(r as unknown as OffsetRecord);
    else if (r.type === 'group') this.applyGroup(r as unknown as GroupRecord);
  }

  private group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) this.groups.set(id, (g = this.make(id)));
    return g;
  }

  private applyOffset(r: OffsetRecord): void {
    if (typeof r.topic !== 'string' || !Number.isSafeInteger(r.partition) || !Number.isSafeInteger(r.offset)) return;
    const g = this.group(r.group);
    const key = offsetKey(r.topic, r.partition);
    const have = g.offsets.get(key);
    if (have && !r.reset && have.offset >= r.offset) return;
    g.offsets.set(key, { topic: r.topic, partition: r.partition, offset: r.offset, metadata: r.metadata ?? '', commitTimestamp: r.commit_timestamp ?? 0 });
  }

  private applyGroup(r: GroupRecord): void {
    if (!Number.isSafeInteger(r.generation) || (this.generations.get(r.group) ?? -1) > r.generation || !Array.isArray(r.members)) return;
    this.generations.set(r.group, r.generation);
    const g = this.group(r.group);
    g.generation = r.generation;
    g.protocolType = r.protocol_type;
    g.protocol = r.protocol;
    g.leaderId = r.leader;
    g.members.clear();
    for (const m of r.members) {
      const member: Member = {
        memberId: m.member_id,
        clientId: m.client_id,
        sessionTimeoutMs: m.session_timeout_ms,
        rebalanceTimeoutMs: m.rebalance_timeout_ms,
        protocols: m.protocols.map((p): Protocol => ({ name: p.name, metadata: Buffer.from(p.metadata, 'base64') })),
        assignment: Buffer.from(m.assignment, 'base64'),
        deadline: this.now() + m.session_timeout_ms,
        joining: null,
        syncing: null,
        ...(typeof m.principal === 'string' ? { owner: m.principal } : {}),
      };
      g.members.set(member.memberId, member);
    }
    g.state = g.members.size > 0 ? 'Stable' : 'Empty';
  }
}

/** What compaction needs to know of an offsets-topic record to pick the one standing for its key. */
type OffsetsSummary = { kind: 'offset'; offset: number; reset: boolean } | { kind: 'group'; generation: number } | { kind: 'other' };

/**
 * Compaction of the offsets topic (log/compaction.ts) keeps, per key, the record a rebuild would
 * end up with — not simply the latest: a rebuild keeps the largest committed offset unless a reset
 * came after (two commits racing to the log can land in either order), and the highest generation
 * of a group (the latest of equals). Folding the kept record alone gives the same state as folding
 * them all, so the coordinator loaded after compaction holds what it held before.
 */
export const OFFSETS_COMPACTION_RULE: CompactionRule<OffsetsSummary> = {
  summarize(payload) {
    try {
      const r = JSON.parse(payload) as Partial<OffsetRecord> & Partial<GroupRecord>;
      if (r?.type === 'offset' && Number.isSafeInteger(r.offset)) return { kind: 'offset', offset: r.offset!, reset: r.reset === true };
      if (r?.type === 'group' && Number.isSafeInteger(r.generation)) return { kind: 'group', generation: r.generation! };
    } catch {
      // not ours: the latest such record stays
    }
    return { kind: 'other' };
  },
  replaces(kept, next) {
    if (kept.kind === 'offset' && next.kind === 'offset') return next.reset || next.offset > kept.offset;
    if (kept.kind === 'group' && next.kind === 'group') return next.generation >= kept.generation;
    // A record the rebuild skips never stands for the key in place of one it applies.
    if (next.kind === 'other') return kept.kind === 'other';
    return true;
  },
};
