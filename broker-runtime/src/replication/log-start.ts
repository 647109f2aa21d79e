import type { EpochEntry } from '../log/types.js';
import { divergencePoint } from './divergence.js';

/**
 * How replicas converge on the leader's log start offset (Kafka: followers take the leader's
 * log start from every fetch answer; a follower whose fetch offset is below it truncates fully and
 * starts at it). Only the leader applies the retention policy; its followers follow its log start,
 * so a record is deleted on every replica at the same offset whatever their segment boundaries.
 */

/** Where the leader resumes sending to a follower that answered "mismatch". */
export interface Resume {
  nextOffset: number;
  /** Cut the follower's log here first (its divergent tail), if anything. */
  truncateTo: number | undefined;
}

/**
 * Leader side, after a mismatch: the divergence point from the larger log start on. A follower
 * whose log ends below the leader's log start cannot be sent what it lacks (deleted): send from the
 * log start instead, where the follower restarts its log (decideFollowerLogStart).
 */
export function resumeAfterMismatch(
  leader: { epochs: readonly EpochEntry[]; logEnd: number; logStart: number },
  follower: { epochs: readonly EpochEntry[]; logEnd: number; logStart: number },
): Resume {
  const from = Math.max(leader.logStart, follower.logStart);
  const d = divergencePoint(leader.epochs, leader.logEnd, follower.epochs, follower.logEnd, from);
  if (d < leader.logStart) return { nextOffset: leader.logStart, truncateTo: undefined };
  return { nextOffset: d, truncateTo: d < follower.logEnd ? d : undefined };
}

/** Whether a leader must move a follower's send position up to its log start (retention ran since). */
export function sendFrom(nextOffset: number, leaderLogStart: number): number {
  return Math.max(nextOffset, leaderLogStart);
}

export type LogStartDecision = { action: 'keep' } | { action: 'restart'; at: number } | { action: 'advance'; to: number };

/**
 * Follower side, for a part carrying the leader's log start `leaderLogStart`:
 *  - nothing to do when it is not above our own;
 *  - restart our log empty at it when our log ends at or below it: everything we hold is below the
 *    leader's log start, deleted there, and nothing at or above it is dropped (a late or repeated
 *    frame cannot cut records we have since received);
 *  - otherwise raise our log start to it, but never past our own high-water mark (whole segments
 *    below it are deleted, never the active one).
 */
export function decideFollowerLogStart(follower: { logStart: number; logEnd: number; highWatermark: number }, leaderLogStart: number | undefined): LogStartDecision {
  if (leaderLogStart === undefined || leaderLogStart <= follower.logStart) return { action: 'keep' };
  if (follower.logEnd <= leaderLogStart) return { action: 'restart', at: leaderLogStart };
  const to = Math.min(leaderLogStart, follower.highWatermark);
  return to > follower.logStart ? { action: 'advance', to } : { action: 'keep' };
}

/**
 * Whether records sent after `prevOffset` continue the follower's log: it must end there, and its
 * record at prevOffset - 1 must be from `prevEpoch` (Raft's log matching) — unless there is no such
 * record: an empty log at its start offset (0, or where it restarted) continues anything sent
 * from there.
 */
export function continuesLog(follower: { logStart: number; logEnd: number; epochAt: (offset: number) => number }, prevOffset: number, prevEpoch: number): boolean {
  if (follower.logEnd !== prevOffset) return false;
  if (prevOffset === 0 || prevOffset === follower.logStart) return true;
  return follower.epochAt(prevOffset - 1) === prevEpoch;
}
