// The broker's own murmur2 (broker-runtime/src/routing), not a copy: the prediction shown before
// sending is computed by the very code that places the record.
import { murmur2, toPositive } from '../../../../broker-runtime/src/routing/murmur2';

export interface KeyRoute {
  key: string;
  /** UTF-8 bytes hashed. */
  bytes: number[];
  /** murmur2 as Java's signed int. */
  hash: number;
  /** The sign bit cleared (Kafka's toPositive). */
  positive: number;
  partitions: number;
  partition: number;
}

const utf8 = new TextEncoder();

/** Kafka's default partitioner for a keyed record, step by step: toPositive(murmur2(utf8(key))) % partitions. */
export function routeKey(key: string, partitions: number): KeyRoute {
  const bytes = utf8.encode(key);
  const hash = murmur2(bytes);
  const positive = toPositive(hash);
  return { key, bytes: [...bytes], hash, positive, partitions, partition: positive % partitions };
}

/** 0x-prefixed, 8 hex digits, of the hash's 32 bits (as the signed int is printed in Java's hex). */
export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}
