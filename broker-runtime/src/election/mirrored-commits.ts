/**
 * Whether this broker's logs reach every high-water mark the leaders mirrored into Redis
 * (`{cluster}:hwm`, broker/high-watermark-mirror.ts). A high-water mark counts records every
 * in-sync replica held when it was reached, so an in-sync replica's log never ends below one
 * (nothing cuts a log below its high-water mark). A log that does lost committed records in a way
 * its own disk cannot show: a data folder or a partition folder deleted (a replaced disk, an
 * `rm -rf`) leaves no evidence for the loader to mark unclean, yet the in-sync set recorded in
 * Redis still names the broker. Such a broker must not lead: it would acknowledge new records at
 * the offsets of the lost ones. The mirror is written lazily, so it may be lower than the truth
 * (then it proves less), never higher.
 */

export interface MissingCommitted {
  /** How many partitions end below their mirrored high-water mark. */
  partitions: number;
  /** The first few, as `topic/partition (log end X < high-water mark Y)`. */
  examples: string[];
}

/**
 * Pure: the partitions whose local log ends below the high-water mark mirrored for them, or null
 * when none does. `mirrored` is the hash as Redis holds it (field `topic/partition`, value the
 * mark); `logEnd` answers a partition's log end offset here (0 when this broker has no such log).
 * Fields that are not a partition and values that are not a count are ignored.
 */
export function missingCommitted(mirrored: Record<string, string>, logEnd: (topic: string, partition: number) => number, maxExamples = 3): MissingCommitted | null {
  let partitions = 0;
  const examples: string[] = [];
  for (const [field, value] of Object.entries(mirrored)) {
    const slash = field.lastIndexOf('/');
    const partition = Number(field.slice(slash + 1));
    const hwm = /^[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;
    if (slash <= 0 || !/^[0-9]{1,10}$/.test(field.slice(slash + 1)) || !Number.isSafeInteger(hwm) || hwm <= 0) continue;
    const topic = field.slice(0, slash);
    const end = logEnd(topic, partition);
    if (end >= hwm) continue;
    partitions++;
    if (examples.length < maxExamples) examples.push(`${topic}/${partition} (log end ${end} < high-water mark ${hwm})`);
  }
  return partitions === 0 ? null : { partitions, examples };
}

/**
 * Pure: whether `self`, short of mirrored high-water marks, may lead anyway: only when every
 * member of the in-sync set (with none recorded, every live broker) is alive and short too, and
 * `self` holds the most (the largest sum of log ends; ties to the smallest id). Then no copy of the
 * missing records exists anywhere (a power cut took every replica's unsynced tail), and refusing
 * would keep the cluster leaderless for good; while one member is down or whole, it may hold them.
 */
export function leadsShortAnyway(
  self: { id: string; logEndTotal: number },
  isrMembers: readonly string[] | null,
  brokers: readonly { id: string; alive: boolean; short?: { logEndTotal: number } }[],
): boolean {
  const byId = new Map(brokers.map((b) => [b.id, b]));
  const members = isrMembers ?? brokers.filter((b) => b.alive).map((b) => b.id);
  for (const id of members) {
    if (id === self.id) continue;
    const b = byId.get(id);
    if (!b || !b.alive || !b.short) return false;
    if (b.short.logEndTotal > self.logEndTotal || (b.short.logEndTotal === self.logEndTotal && id < self.id)) return false;
  }
  return true;
}
