import { invalidRequest, unknownPartition } from '../errors/errors.js';
import { murmur2, toPositive } from './murmur2.js';

/** Picks a partition for a record without a key. */
export interface PartitionSpreader {
  next(partitionCount: number): number;
}

/**
 * Spreads keyless records evenly: 0, 1, 2, 0, 1, ... Keep one per topic (RoundRobinByTopic does).
 * Kafka's newer default is "sticky" (fill a batch on one partition, then move); with one record
 * per request plain round-robin spreads just as well and is easier to watch in a demo.
 */
export class RoundRobin implements PartitionSpreader {
  constructor(private counter = 0) {}

  next(partitionCount: number): number {
    const partition = this.counter % partitionCount;
    // Wrap well before 2^53 so the modulo stays exact forever.
    this.counter = (this.counter + 1) % 0x7fffffff;
    return partition;
  }
}

/** One RoundRobin per topic, created on first use. */
export class RoundRobinByTopic {
  private readonly byTopic = new Map<string, RoundRobin>();

  for(topic: string): RoundRobin {
    let rr = this.byTopic.get(topic);
    if (!rr) {
      rr = new RoundRobin();
      this.byTopic.set(topic, rr);
    }
    return rr;
  }

  delete(topic: string): void {
    this.byTopic.delete(topic);
  }
}

const utf8 = new TextEncoder();

/** Kafka's default partitioner for a keyed record: toPositive(murmur2(utf8(key))) % count. */
export function partitionForKey(key: string, partitionCount: number): number {
  return toPositive(murmur2(utf8.encode(key))) % partitionCount;
}

/**
 * Where a record goes: an explicit partition wins, then the key's hash, then the spreader.
 * An explicit partition that is not a non-negative integer is INVALID_REQUEST; one past the
 * topic's partitions is UNKNOWN_PARTITION (pass `topic` so the message names it).
 */
export function choosePartition(
  key: string | null,
  explicit: number | undefined,
  partitionCount: number,
  spreader: PartitionSpreader,
  topic = '',
): number {
  if (!Number.isSafeInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  if (explicit !== undefined) {
    if (!Number.isSafeInteger(explicit) || explicit < 0) {
      throw invalidRequest(`partition must be a non-negative integer, got ${String(explicit)}`);
    }
    if (explicit >= partitionCount) throw unknownPartition(topic, explicit, partitionCount);
    return explicit;
  }
  if (key !== null) return partitionForKey(key, partitionCount);
  return spreader.next(partitionCount);
}
