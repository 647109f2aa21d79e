import { byTopicPartition, type TopicPartition } from './assignors.js';

/**
 * YAK's REST groups use the same member model as Kafka clients, with the coordinator itself
 * assigning: protocol type `yak`, each protocol named after a strategy, its metadata the member's
 * subscription as JSON, and the assignment JSON too.
 */
export const YAK_PROTOCOL_TYPE = 'yak';

export function encodeSubscription(topics: string[]): Buffer {
  return Buffer.from(JSON.stringify({ topics }));
}

export function decodeSubscription(metadata: Buffer): string[] {
  try {
    const v = JSON.parse(metadata.toString('utf8')) as { topics?: unknown };
    return Array.isArray(v.topics) ? v.topics.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

export function encodeAssignment(partitions: TopicPartition[]): Buffer {
  return Buffer.from(JSON.stringify([...partitions].sort(byTopicPartition).map((p) => [p.topic, p.partition])));
}

export function decodeAssignment(assignment: Buffer): TopicPartition[] {
  if (assignment.length === 0) return [];
  try {
    const v = JSON.parse(assignment.toString('utf8')) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((x): x is [string, number] => Array.isArray(x) && typeof x[0] === 'string' && Number.isInteger(x[1])).map(([topic, partition]) => ({ topic, partition }));
  } catch {
    return [];
  }
}
