import type { GroupBrokerView } from '../../../shared/cluster-api';

/**
 * Who holds which partition in one generation, read from the leader's GET /groups/{group}, and
 * what moved between two generations. Members are named by their client id (the app's members
 * send their name as it), so the leader's own answer says which of them is which.
 */

export interface Assignment {
  generation: number;
  /** Member name (client id, or member id when it has none) → its partitions, ascending. */
  holders: Record<string, number[]>;
}

export interface Move {
  partition: number;
  from: string | null;
  to: string | null;
}

export function memberLabel(m: { clientId: string; memberId: string }): string {
  return m.clientId || m.memberId;
}

export function assignmentOf(view: GroupBrokerView, topic?: string): Assignment {
  const holders: Record<string, number[]> = {};
  for (const m of view.members) {
    holders[memberLabel(m)] = m.partitions.filter((p) => topic === undefined || p.topic === topic).map((p) => p.partition).sort((a, b) => a - b);
  }
  return { generation: view.generation, holders };
}

/** The holder of every partition, by partition. */
function ownerMap(a: Assignment): Map<number, string> {
  const out = new Map<number, string>();
  for (const [member, parts] of Object.entries(a.holders)) for (const p of parts) out.set(p, member);
  return out;
}

export function movesBetween(before: Assignment | null, after: Assignment): Move[] {
  const was = before ? ownerMap(before) : new Map<number, string>();
  const now = ownerMap(after);
  const partitions = [...new Set([...was.keys(), ...now.keys()])].sort((a, b) => a - b);
  return partitions.filter((p) => was.get(p) !== now.get(p)).map((p) => ({ partition: p, from: was.get(p) ?? null, to: now.get(p) ?? null }));
}

export function describeAssignment(a: Assignment): string {
  const parts = Object.entries(a.holders)
    .sort(([x], [y]) => x.localeCompare(y, 'en', { numeric: true }))
    .map(([m, ps]) => `${m} → ${ps.length ? ps.map((p) => `p${p}`).join(', ') : 'nothing'}`);
  return parts.length ? parts.join('; ') : 'no members';
}

export function describeMoves(moves: Move[]): string {
  if (moves.length === 0) return 'no partition moved';
  return moves.map((m) => `p${m.partition} ${m.from ?? '(nobody)'} → ${m.to ?? '(nobody)'}`).join(', ');
}
