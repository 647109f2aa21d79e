/**
 * Partition assignment strategies, as plain functions over plain data (no clock, no I/O), so each is
 * a fast deterministic unit test. Names as Kafka's: `range` (RangeAssignor), `roundrobin`
 * (RoundRobinAssignor) and `sticky` (StickyAssignor: balanced, and a rebalance moves as few
 * partitions as it can).
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface AssignMember {
  memberId: string;
  /** Subscribed topics. */
  topics: string[];
  /** What the member held in the previous generation (the sticky strategy keeps it where it can). */
  owned: TopicPartition[];
}

export const STRATEGIES = ['range', 'roundrobin', 'sticky'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export function isStrategy(name: unknown): name is Strategy {
  return typeof name === 'string' && (STRATEGIES as readonly string[]).includes(name);
}

/** Partition count of a topic, or undefined for an unknown topic (whose subscribers get nothing of it). */
export type PartitionCount = (topic: string) => number | undefined;

/** memberId → its partitions, sorted; every member present (an empty list when it gets nothing). */
export type Assignment = Map<string, TopicPartition[]>;

export function assign(strategy: Strategy, members: AssignMember[], count: PartitionCount): Assignment {
  const sorted = [...members].sort((a, b) => compare(a.memberId, b.memberId));
  const result = strategy === 'range' ? range(sorted, count) : strategy === 'roundrobin' ? roundRobin(sorted, count) : sticky(sorted, count);
  for (const list of result.values()) list.sort(byTopicPartition);
  return result;
}

function emptyAssignment(members: AssignMember[]): Assignment {
  return new Map(members.map((m) => [m.memberId, []]));
}

function topicsOf(members: AssignMember[], count: PartitionCount): string[] {
  return [...new Set(members.flatMap((m) => m.topics))].filter((t) => (count(t) ?? 0) > 0).sort(compare);
}

/** Per topic: its subscribers in member order take consecutive ranges; the first `n % m` one more. */
function range(members: AssignMember[], count: PartitionCount): Assignment {
  const out = emptyAssignment(members);
  for (const topic of topicsOf(members, count)) {
    const subs = members.filter((m) => m.topics.includes(topic));
    const n = count(topic)!;
    const each = Math.floor(n / subs.length);
    const extra = n % subs.length;
    let next = 0;
    subs.forEach((m, i) => {
      const take = each + (i < extra ? 1 : 0);
      for (let p = next; p < next + take; p++) out.get(m.memberId)!.push({ topic, partition: p });
      next += take;
    });
  }
  return out;
}

/** Every partition of every subscribed topic in order, dealt to the members in turn (skipping non-subscribers). */
function roundRobin(members: AssignMember[], count: PartitionCount): Assignment {
  const out = emptyAssignment(members);
  let turn = 0;
  for (const topic of topicsOf(members, count)) {
    for (let p = 0; p < count(topic)!; p++) {
      for (let tries = 0; tries < members.length; tries++) {
        const m = members[turn % members.length]!;
        turn++;
        if (m.topics.includes(topic)) {
          out.get(m.memberId)!.push({ topic, partition: p });
          break;
        }
      }
    }
  }
  return out;
}

/**
 * Keep what each member owned (while it still subscribes, the partition exists and nobody claimed it
 * first), up to a fair share; give the rest to whoever subscribes and holds least; then move single
 * partitions from the fullest to the emptiest until no member holds two more than another that could
 * take one.
 */
function sticky(members: AssignMember[], count: PartitionCount): Assignment {
  const out = emptyAssignment(members);
  const all = topicsOf(members, count).flatMap((topic) => Array.from({ length: count(topic)! }, (_, partition) => ({ topic, partition })));
  if (members.length === 0) return out;
  const fair = Math.ceil(all.length / members.length);
  const taken = new Set<string>();
  for (const m of members) {
    const mine = out.get(m.memberId)!;
    for (const tp of [...m.owned].sort(byTopicPartition)) {
      const id = tpKey(tp);
      const n = count(tp.topic);
      if (mine.length >= fair || taken.has(id) || !m.topics.includes(tp.topic) || n === undefined || tp.partition >= n) continue;
      taken.add(id);
      mine.push({ topic: tp.topic, partition: tp.partition });
    }
  }
  for (const tp of all) {
    if (taken.has(tpKey(tp))) continue;
    const target = leastLoaded(members.filter((m) => m.topics.includes(tp.topic)), out);
    if (target) out.get(target.memberId)!.push(tp);
  }
  // Balance: a bounded number of single moves, each from a fuller member to one at least two lighter.
  for (let moves = 0; moves < all.length; moves++) {
    let moved = false;
    for (const from of [...members].sort((a, b) => out.get(b.memberId)!.length - out.get(a.memberId)!.length)) {
      const held = out.get(from.memberId)!;
      for (let i = held.length - 1; i >= 0 && !moved; i--) {
        const tp = held[i]!;
        const to = leastLoaded(members.filter((m) => m.topics.includes(tp.topic)), out);
        if (to && out.get(to.memberId)!.length + 1 < held.length) {
          held.splice(i, 1);
          out.get(to.memberId)!.push(tp);
          moved = true;
        }
      }
      if (moved) break;
    }
    if (!moved) break;
  }
  return out;
}

function leastLoaded(candidates: AssignMember[], out: Assignment): AssignMember | undefined {
  let best: AssignMember | undefined;
  for (const m of candidates) if (!best || out.get(m.memberId)!.length < out.get(best.memberId)!.length) best = m;
  return best;
}

function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return compare(a.topic, b.topic) || a.partition - b.partition;
}
