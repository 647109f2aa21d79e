import { epochAt } from '../log/leader-epoch-cache.js';
import type { EpochEntry } from '../log/types.js';

/**
 * Where two logs stop agreeing, from their leader-epoch caches alone (Kafka's KIP-101 idea, with
 * Raft's log-matching property: one epoch has one leader, who assigns each offset once, so equal
 * epochs at an offset mean equal records up to there).
 */

/**
 * The first offset at which the logs differ (= the length of their common prefix), looking only
 * at offsets from `from` on (the larger of the two log start offsets: below it one of the logs
 * holds nothing to compare, and a follower that restarted there has no epochs below it).
 */
export function divergencePoint(
  leader: readonly EpochEntry[],
  leaderEnd: number,
  follower: readonly EpochEntry[],
  followerEnd: number,
  from = 0,
): number {
  const limit = Math.min(leaderEnd, followerEnd);
  if (limit <= from) return limit;
  const bounds = new Set<number>([from]);
  for (const e of leader) if (e.startOffset > from && e.startOffset < limit) bounds.add(e.startOffset);
  for (const e of follower) if (e.startOffset > from && e.startOffset < limit) bounds.add(e.startOffset);
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

/** What a leader sends with a truncation to prove it holds the records it makes a follower re-fetch. */
export interface TruncationProof {
  /** The leader's log end offset. */
  leaderEnd?: number;
  /** The leader's epoch cache from the entry covering the truncation offset on (enough for epochAt at or after it). */
  leaderEpochs?: readonly EpochEntry[];
}

/**
 * Whether the leader holds every record below the follower's high-water mark `hwm` as the follower
 * does: its log reaches `hwm` and its record at hwm - 1 is from the same epoch as the follower's
 * (Raft's log matching: then the logs agree on every record up to there, so a cut below `hwm`
 * loses nothing — the same records come back). A leader that lost committed records and wrote new
 * ones at their offsets wrote them in a newer epoch, so it cannot show this.
 */
export function leaderHoldsCommitted(own: readonly EpochEntry[], hwm: number, proof: TruncationProof): boolean {
  if (hwm <= 0) return true;
  const { leaderEnd, leaderEpochs } = proof;
  if (leaderEnd === undefined || leaderEpochs === undefined || leaderEnd < hwm) return false;
  const mine = epochAt(own, hwm - 1);
  return mine >= 0 && epochAt(leaderEpochs, hwm - 1) === mine;
}

export type TruncationDecision = { action: 'keep' } | { action: 'cut'; to: number } | { action: 'refuse'; reason: string };

/**
 * The follower's answer to a leader's "cut your log at `truncateTo`": keep the log when there is
 * nothing to cut or no conflict (truncationConflicts); cut a conflicting tail above the high-water
 * mark (never committed); cut below it only when the leader proves it holds those records
 * (leaderHoldsCommitted). Otherwise refuse: records below the high-water mark were committed, and
 * a leader without them must not make every replica forget them.
 */
export function decideTruncation(
  follower: { epochs: readonly EpochEntry[]; logEnd: number; highWatermark: number },
  request: { truncateTo?: number; truncateEpoch?: number; leaderEpoch: number } & TruncationProof,
): TruncationDecision {
  const to = request.truncateTo;
  if (to === undefined || to >= follower.logEnd) return { action: 'keep' };
  if (!truncationConflicts(follower.epochs, to, request.truncateEpoch, request.leaderEpoch)) return { action: 'keep' };
  if (to >= follower.highWatermark || leaderHoldsCommitted(follower.epochs, follower.highWatermark, request)) return { action: 'cut', to };
  const at = follower.highWatermark - 1;
  const { leaderEnd, leaderEpochs } = request;
  const shown =
    leaderEnd === undefined || leaderEpochs === undefined
      ? 'it sent no proof'
      : leaderEnd < follower.highWatermark
        ? `its log ends at ${leaderEnd}`
        : `its record at ${at} is from epoch ${epochAt(leaderEpochs, at)}, ours from epoch ${epochAt(follower.epochs, at)}`;
  return { action: 'refuse', reason: `cut to ${to} is below our high-water mark ${follower.highWatermark} and the leader does not show it holds those records (${shown})` };
}

/** The suffix of a leader's epoch cache that a truncation at `offset` sends as proof (see TruncationProof). */
export function epochsFrom(entries: readonly EpochEntry[], offset: number): EpochEntry[] {
  let first = 0;
  for (let i = 0; i < entries.length; i++) if (entries[i]!.startOffset <= offset) first = i;
  return entries.slice(first).map((e) => ({ ...e }));
}
