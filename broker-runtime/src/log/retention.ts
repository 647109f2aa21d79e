/**
 * Retention decisions (Kafka's UnifiedLog.deleteRetentionMsBreachedSegments and
 * deleteRetentionSizeBreachedSegments), as plain functions over plain data: the partition log does
 * the I/O. Only whole segments go, oldest first, and only while every one of these holds:
 *
 *  - it is not the active (last) segment;
 *  - it lies wholly below the high-water mark (its end offset <= the high-water mark): nothing uncommitted, and
 *    nothing a consumer has not been able to read, is ever deleted;
 *  - it breaches a limit: its newest record is older than retention.ms (by the largest record
 *    timestamp in it, as Kafka), or the partition would still hold at least retention.bytes
 *    without it (Kafka: a log is never cut below its retention size).
 *
 * The first segment that may not go stops the deletion: the log stays one contiguous run.
 */

/** Effective limits for one partition; null = unlimited (Kafka's -1). */
export interface RetentionPolicy {
  retentionMs: number | null;
  retentionBytes: number | null;
}

/** What the decision needs to know of a segment. */
export interface SegmentSummary {
  baseOffset: number;
  /** One past its last record: the next segment's base (the log end for the active one). */
  endOffset: number;
  bytes: number;
  /** Largest record timestamp in it (ms since the Unix epoch); -Infinity when it has no records. */
  largestTimestamp: number;
}

export interface RetentionDecision {
  /** How many segments to delete from the front. */
  deleteCount: number;
  /** The log start offset afterwards: the base of the first segment kept. */
  logStartOffset: number;
  /** Why, one line per reason, for the broker log. */
  reasons: string[];
}

/** The segments (oldest first, the last one active) that `policy` deletes at `nowMs`. */
export function segmentsToDelete(segments: readonly SegmentSummary[], highWatermark: number, policy: RetentionPolicy, nowMs: number): RetentionDecision {
  let total = 0;
  for (const s of segments) total += s.bytes;
  let count = 0;
  let byTime = 0;
  let bySize = 0;
  for (let i = 0; i + 1 < segments.length; i++) {
    const s = segments[i]!;
    if (s.endOffset > highWatermark) break;
    const expired = policy.retentionMs !== null && nowMs - s.largestTimestamp > policy.retentionMs;
    const oversize = policy.retentionBytes !== null && total - s.bytes >= policy.retentionBytes;
    if (!expired && !oversize) break;
    if (expired) byTime++;
    else bySize++;
    total -= s.bytes;
    count++;
  }
  const reasons: string[] = [];
  if (byTime > 0) reasons.push(`${byTime} segment(s) with every record older than retention.ms ${policy.retentionMs}`);
  if (bySize > 0) reasons.push(`${bySize} segment(s) over retention.bytes ${policy.retentionBytes}`);
  const first = segments[count];
  return { deleteCount: count, logStartOffset: first ? first.baseOffset : 0, reasons };
}
