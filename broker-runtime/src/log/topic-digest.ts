import { createHash } from 'node:crypto';
import type { TopicInfo } from './types.js';

const MOD = 1n << 64n;

/**
 * A digest of a set of topics (name, partitions, config), updated per topic in O(1): the sum
 * modulo 2^64 of one 64-bit hash per topic, so it does not depend on order. Replication compares
 * the leader's with what a follower applied; hashing every topic at every change made creating
 * n topics cost O(n^2).
 */
export class TopicDigest {
  private readonly each = new Map<string, bigint>();
  private sum = 0n;

  set(info: TopicInfo): void {
    const h = topicHash(info);
    const old = this.each.get(info.name);
    if (old !== undefined) this.sum = (this.sum - old + MOD) % MOD;
    this.each.set(info.name, h);
    this.sum = (this.sum + h) % MOD;
  }

  /** 16 hex digits, with the topic count in front (two digests of different sizes never match). */
  value(): string {
    return `${this.each.size}-${this.sum.toString(16).padStart(16, '0')}`;
  }
}

function topicHash(info: TopicInfo): bigint {
  const text = `${info.name}:${info.partitions}:${JSON.stringify(info.config ?? {})}`;
  return createHash('sha1').update(text).digest().readBigUInt64BE(0);
}
