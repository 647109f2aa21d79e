import { denied, TOPIC_NAME, type RequestContext } from '../context.js';
import { KAFKA_ERRORS, KafkaError, kafkaCodeOf } from '../protocol/error-codes.js';
import type { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

/** CreateTopics 0–4. The leader creates (it is the controller in Metadata); replication factor is the cluster's. */
export interface CreateTopicsRequest {
  topics: { name: string; partitions: number; replicationFactor: number; assignments: number; configs: number }[];
  validateOnly: boolean;
}

export function decodeCreateTopics(r: Reader, version: number): CreateTopicsRequest {
  const topics = r.array((r) => {
    const name = r.string();
    const partitions = r.int32();
    const replicationFactor = r.int16();
    const assignments = r.array((r) => ({ index: r.int32(), brokers: r.array((r) => r.int32()) })).length;
    const configs = r.array((r) => ({ name: r.string(), value: r.nullableString() })).length;
    return { name, partitions, replicationFactor, assignments, configs };
  });
  r.int32(); // timeout_ms
  const validateOnly = version >= 1 ? r.boolean() : false;
  return { topics, validateOnly };
}

const MAX_PARTITIONS = 1000;

export async function handleCreateTopics(req: CreateTopicsRequest, ctx: RequestContext): Promise<Writer> {
  const seen = new Set<string>();
  const results: { name: string; error: number; message: string | null }[] = [];
  // One at a time: topic creation writes the metadata file; concurrency buys nothing here.
  for (const t of req.topics) {
    try {
      if (seen.has(t.name)) throw new KafkaError('INVALID_REQUEST', `topic '${t.name}' is listed twice`);
      seen.add(t.name);
      if (!TOPIC_NAME.test(t.name)) throw new KafkaError('INVALID_TOPIC_EXCEPTION', `topic name '${t.name}' does not match ^[A-Za-z0-9._-]{1,249}$`);
      const why = denied(ctx, { op: 'admin' });
      if (why) throw new KafkaError('TOPIC_AUTHORIZATION_FAILED', why);
      if (t.assignments > 0) throw new KafkaError('INVALID_REPLICA_ASSIGNMENT', 'YAK places every partition on every broker; give no replica assignment');
      if (t.configs > 0) throw new KafkaError('INVALID_CONFIG', 'topic configs are not taken over the Kafka protocol yet; use the REST API (POST /topics with config)');
      const partitions = t.partitions === -1 ? ctx.backend.defaultPartitions : t.partitions;
      if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) throw new KafkaError('INVALID_PARTITIONS', `partitions must be 1-${MAX_PARTITIONS} (or -1 for the default)`);
      if (ctx.backend.topics().some((x) => x.name === t.name)) throw new KafkaError('TOPIC_ALREADY_EXISTS', `topic '${t.name}' already exists`);
      if (!req.validateOnly) await ctx.backend.createTopic(t.name, partitions);
      results.push({ name: t.name, error: 0, message: null });
    } catch (err) {
      const code = kafkaCodeOf(err);
      // A follower is not the controller: KafkaJS refreshes metadata and asks the leader.
      results.push({ name: t.name, error: code === KAFKA_ERRORS.NOT_LEADER_OR_FOLLOWER ? NOT_CONTROLLER : code, message: (err as Error).message });
    }
  }
  const w = new Writer(64);
  if (ctx.apiVersion >= 2) w.int32(0);
  w.array(results, (w, r) => {
    w.string(r.name).int16(r.error);
    if (ctx.apiVersion >= 1) w.nullableString(r.message);
  });
  return w;
}

const NOT_CONTROLLER = 41;
