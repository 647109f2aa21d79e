/**
 * The leader's replication decisions as plain functions: when the high-water mark moves, who
 * leaves the in-sync set, who may rejoin it.
 */

/**
 * The new high-water mark of one partition: the smallest log end among the leader and every
 * follower counted for commits, and never below the current one. Nothing commits while fewer
 * than `minInsync` replicas are in sync.
 */
export function nextHighWatermark(input: {
  current: number;
  leaderEnd: number;
  /** Replicated log end of each follower counted for commits (in sync, or joining). */
  followerEnds: number[];
  inSyncCount: number;
  minInsync: number;
}): number {
  if (input.inSyncCount < input.minInsync) return input.current;
  let hwm = input.leaderEnd;
  for (const end of input.followerEnds) if (end < hwm) hwm = end;
  return Math.max(hwm, input.current);
}

/** Followers in the in-sync set that have not been caught up for longer than `lagMs`. */
export function laggingFollowers(inSync: Iterable<string>, lastCaughtUpAt: (id: string) => number, now: number, lagMs: number): string[] {
  const out: string[] = [];
  for (const id of inSync) if (now - lastCaughtUpAt(id) > lagMs) out.push(id);
  return out;
}

/**
 * A follower outside the in-sync set may rejoin once, in every partition, its replicated log
 * reaches the leader's high-water mark (Kafka's rule): from then on commits wait for it.
 */
export function mayRejoin(partitions: { followerEnd: number; highWatermark: number }[], metadataInSync: boolean): boolean {
  return metadataInSync && partitions.every((p) => p.followerEnd >= p.highWatermark);
}
