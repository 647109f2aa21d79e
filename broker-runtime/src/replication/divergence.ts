import type { EpochEntry } from '../log/types.js';

/**
 * Where two logs stop agreeing, from their leader-epoch caches alone (Kafka's KIP-101 idea, with
 * Raft's log-matching property: one epoch has one leader, who assigns each offset once, so equal
 * epochs at an offset mean equal records up to there).
 */

/** Epoch of the record at `offset`, or -1 before the first entry. Entries are sorted by startOffset. */
export function epochAt(entries: readonly EpochEntry[], offset: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = entries[mid]!;
    if (e.startOffset <= offset) {
      found = e.epoch;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The first offset at which the logs differ (= the length of their common prefix). */
export function divergencePoint(
  leader: readonly EpochEntry[],
  leaderEnd: number,
  follower: readonly EpochEntry[],
  followerEnd: number,
): number {
  const limit = Math.min(leaderEnd, followerEnd);
  const bounds = new Set<number>([0]);
  for (const e of leader) if (e.startOffset < limit) bounds.add(e.startOffset);
  for (const e of follower) if (e.startOffset < limit) bounds.add(e.startOffset);
  const sorted = [...bounds].sort((a, b) => a - b);
  for (const b of sorted) {
    if (b >= limit) break;
    if (epochAt(leader, b) !== epochAt(follower, b)) return b;
  }
  return limit;
}

/**
 * Whether a follower should cut its log at `offset` as the leader asks: only if its record there is
 * from neither the leader's record at that offset (`leaderEpochThere`, -1 if it has none) nor the
 * sending leader's own epoch. A retried or late request then cannot cut records the follower has
 * since received from this very leader (Raft: truncate only on conflict). Without the leader's
 * epoch there (an older leader), cut as asked.
 */
export function truncationConflicts(own: readonly EpochEntry[], offset: number, leaderEpochThere: number | undefined, leaderEpoch: number): boolean {
  if (leaderEpochThere === undefined) return true;
  const mine = epochAt(own, offset);
  return mine !== leaderEpochThere && mine !== leaderEpoch;
}
