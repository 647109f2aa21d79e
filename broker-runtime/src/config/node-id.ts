import { crc32 } from 'node:zlib';

/**
 * The int32 node id Kafka clients see for a broker without --node-id: derived from its --id, the
 * same on every start and on every broker that computes it. 1..2^30: positive, and far from the
 * -1 Kafka uses for "none".
 */
export function defaultNodeId(brokerId: string): number {
  return (crc32(brokerId) % 0x3fffffff) + 1;
}
