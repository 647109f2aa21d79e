import type { TopicPartition } from './assignors.js';

/**
 * Kafka clients' group assignments (protocol type `consumer`) are opaque to the coordinator, but
 * describing a group should still say who holds which partition: this reads Kafka's
 * ConsumerProtocolAssignment (int16 version, [topic string, [int32 partition]], user data), the same
 * layout in every version so far. Anything it cannot read gives an empty list, never an error.
 */
export function decodeKafkaAssignment(buf: Buffer): TopicPartition[] {
  try {
    let pos = 2; // version
    const topics = buf.readInt32BE(pos);
    pos += 4;
    const out: TopicPartition[] = [];
    for (let t = 0; t < topics; t++) {
      const len = buf.readInt16BE(pos);
      pos += 2;
      const topic = buf.toString('utf8', pos, pos + len);
      pos += len;
      const n = buf.readInt32BE(pos);
      pos += 4;
      for (let i = 0; i < n; i++, pos += 4) out.push({ topic, partition: buf.readInt32BE(pos) });
    }
    return out;
  } catch {
    return [];
  }
}
