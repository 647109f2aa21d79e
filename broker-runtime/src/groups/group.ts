/**
 * A consumer group as the coordinator keeps it: Kafka's model (GroupMetadata / MemberMetadata), so
 * Kafka's JoinGroup, SyncGroup, Heartbeat and LeaveGroup map onto it one to one.
 *
 * States, as Kafka's: Empty (no members; committed offsets may remain) → PreparingRebalance (members
 * are asked to join again; joins wait) → CompletingRebalance (a new generation is formed; waiting for
 * its assignment) → Stable. Each completed join phase opens a new generation.
 */

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

export interface Protocol {
  /** For Kafka clients an assignor name ("range", "cooperative-sticky"); for YAK's REST groups a strategy name. */
  name: string;
  /** Opaque to the coordinator for Kafka clients (their subscription); JSON `{topics}` for REST groups. */
  metadata: Buffer;
}

export interface JoinResult {
  memberId: string;
  generation: number;
  protocolType: string;
  protocol: string;
  leaderId: string;
  /** Every member and its chosen protocol's metadata: only for the leader (Kafka's client-side assignment), else empty. */
  members: { memberId: string; clientId: string; metadata: Buffer }[];
  /** Server-side assignment (REST groups): this member's assignment, encoded as in rest-protocol.ts. */
  assignment?: Buffer;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

export interface Member {
  memberId: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: Protocol[];
  /** This member's assignment in the current generation (empty until it is known). */
  assignment: Buffer;
  /** When the session ends unless a heartbeat (or any request of the member) comes first. */
  deadline: number;
  /** A JoinGroup waiting for the join phase to complete. */
  joining: Waiter<JoinResult> | null;
  /** A SyncGroup waiting for the leader's assignment. */
  syncing: Waiter<Buffer> | null;
}

export interface CommittedOffset {
  offset: number;
  metadata: string;
  commitTimestamp: number;
}

export class Group {
  state: GroupState = 'Empty';
  generation = 0;
  protocolType = '';
  protocol = '';
  leaderId = '';
  readonly members = new Map<string, Member>();
  /** "topic\0partition" → committed offset. */
  readonly offsets = new Map<string, CommittedOffset & { topic: string; partition: number }>();
  /** PreparingRebalance: when members that have not joined again are removed. CompletingRebalance: when the leader's assignment is given up on. */
  rebalanceDeadline = 0;
  /** The generation whose group record is being written (CompletingRebalance → Stable waits for it). */
  persisting = false;

  constructor(readonly id: string) {}

  allJoined(): boolean {
    for (const m of this.members.values()) if (!m.joining) return false;
    return true;
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** A protocol every member supports, preferring the one most members list first (Kafka's vote). */
  chooseProtocol(): string | null {
    const members = [...this.members.values()];
    if (members.length === 0) return null;
    const common = members[0]!.protocols.map((p) => p.name).filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    if (common.length === 0) return null;
    const votes = new Map<string, number>(common.map((n) => [n, 0]));
    for (const m of members) {
      const pick = m.protocols.find((p) => votes.has(p.name))!.name;
      votes.set(pick, votes.get(pick)! + 1);
    }
    return [...votes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  }

  /** Whether `protocols` shares a name with every member's (so a protocol can still be chosen with it). */
  supports(protocols: Protocol[], except?: string): boolean {
    for (const m of this.members.values()) {
      if (m.memberId === except) continue;
      if (!protocols.some((p) => m.protocols.some((q) => q.name === p.name))) return false;
    }
    return true;
  }

  metadataOf(member: Member, protocol: string): Buffer {
    return member.protocols.find((p) => p.name === protocol)?.metadata ?? Buffer.alloc(0);
  }
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function sameProtocols(a: Protocol[], b: Protocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}
