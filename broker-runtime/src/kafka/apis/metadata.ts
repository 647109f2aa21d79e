import { denied, TOPIC_NAME, type RequestContext } from '../context.js';
import type { KafkaAddress, KafkaClusterView } from '../backend.js';
import { KAFKA_ERRORS } from '../protocol/error-codes.js';
import type { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

/** Metadata 1–8. Every partition's leader is the cluster leader (YAK has one leader for all). */
export interface MetadataRequest {
  /** Null: every topic. */
  topics: string[] | null;
  allowAutoCreate: boolean;
}

export function decodeMetadata(r: Reader, version: number): MetadataRequest {
  const topics = r.nullableArray((r) => r.string());
  const allowAutoCreate = version >= 4 ? r.boolean() : true;
  if (version >= 8) {
    r.boolean(); // include_cluster_authorized_operations
    r.boolean(); // include_topic_authorized_operations
  }
  return { topics, allowAutoCreate };
}

interface TopicAnswer {
  error: number;
  name: string;
  partitions: number;
}

export async function handleMetadata(req: MetadataRequest, ctx: RequestContext): Promise<Writer> {
  const { backend } = ctx;
  const view = backend.view();
  const known = new Map(backend.topics().map((t) => [t.name, t.partitions]));
  const answers: TopicAnswer[] = [];
  if (req.topics === null) {
    for (const [name, partitions] of known) if (maySee(ctx, name)) answers.push({ error: 0, name, partitions });
  } else {
    const creations = { left: MAX_AUTO_CREATES_PER_REQUEST };
    // A name repeated is answered once (Kafka keeps the requested topics in a set): each answer
    // lists every partition of the topic, so 3 bytes of request bought a whole topic's listing,
    // and 20,000 copies of a 100-partition topic's name (60 KB) were answered with 84 MB.
    const names = [...new Set(req.topics)];
    await Promise.all(names.map(async (name, i) => (answers[i] = await topicAnswer(name, req.allowAutoCreate, known, view, ctx, creations))));
  }
  return encodeMetadata(ctx.apiVersion, ctx.backend.view(), answers);
}

function maySee(ctx: RequestContext, topic: string): boolean {
  return !ctx.auth || !ctx.principal || ctx.auth.maySee(ctx.principal, topic);
}

/**
 * Topics one Metadata request may auto-create: one small request naming a million unknown names
 * would otherwise create a million topics (folders, files, metadata replicated) at once.
 */
export const MAX_AUTO_CREATES_PER_REQUEST = 16;

/**
 * An unknown topic is created with --partitions partitions when the client allows it (Kafka's
 * auto.create.topics.enable): by the leader at once, else by the leader's first Produce to it.
 */
async function topicAnswer(name: string, allowCreate: boolean, known: Map<string, number>, view: KafkaClusterView, ctx: RequestContext, creations: { left: number }): Promise<TopicAnswer> {
  if (!TOPIC_NAME.test(name)) return { error: KAFKA_ERRORS.INVALID_TOPIC_EXCEPTION, name, partitions: 0 };
  const partitions = known.get(name);
  if (partitions !== undefined) return maySee(ctx, name) ? { error: 0, name, partitions } : { error: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED, name, partitions: 0 };
  if (!allowCreate) return { error: KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: 0 };
  if (denied(ctx, { op: 'produce', topic: name })) return { error: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED, name, partitions: 0 };
  if (!view.leader) return { error: KAFKA_ERRORS.LEADER_NOT_AVAILABLE, name, partitions: 0 };
  // A follower cannot create topics. It answers as the leader will create the topic (--partitions
  // partitions, led by the leader), so the client sends its Produce there and the leader's produce
  // creates it — as Kafka's auto-creation would. Asking a follower again would only loop.
  if (view.leader.id !== view.selfId) return { error: 0, name, partitions: ctx.backend.defaultPartitions };
  // Retriable: a client that really wants all of them asks again and gets the next ones.
  if (creations.left <= 0) return { error: KAFKA_ERRORS.LEADER_NOT_AVAILABLE, name, partitions: 0 };
  creations.left--;
  try {
    await ctx.backend.createTopic(name, ctx.backend.defaultPartitions);
  } catch (err) {
    // Created meanwhile by another request: fine. Anything else: the client asks again.
    if ((err as { code?: string }).code !== 'TOPIC_EXISTS') {
      ctx.log('debug', `kafka: auto-creating topic ${name} failed: ${(err as Error).message}`);
      return { error: KAFKA_ERRORS.LEADER_NOT_AVAILABLE, name, partitions: 0 };
    }
  }
  const created = ctx.backend.topics().find((t) => t.name === name);
  return created ? { error: 0, name, partitions: created.partitions } : { error: KAFKA_ERRORS.LEADER_NOT_AVAILABLE, name, partitions: 0 };
}

export function encodeMetadata(version: number, view: KafkaClusterView, topics: readonly TopicAnswer[]): Writer {
  const w = new Writer(256);
  if (version >= 3) w.int32(0); // throttle_time_ms
  w.array(view.brokers, (w, b) => {
    w.int32(b.kafka.node_id).string(b.kafka.host).int32(b.kafka.port);
    w.nullableString(null); // rack
  });
  if (version >= 2) w.nullableString(view.cluster);
  const leader: KafkaAddress | null = view.leader?.kafka ?? null;
  w.int32(leader ? leader.node_id : -1); // controller_id: the leader creates topics
  const replicas = view.brokers.map((b) => b.kafka.node_id);
  const byId = new Map(view.brokers.map((b) => [b.id, b.kafka.node_id]));
  const isr = view.inSync.map((id) => byId.get(id)).filter((n): n is number => n !== undefined);
  if (leader && !isr.includes(leader.node_id)) isr.unshift(leader.node_id);
  if (leader && !replicas.includes(leader.node_id)) replicas.unshift(leader.node_id);
  w.array(topics, (w, t) => {
    w.int16(t.error).string(t.name).boolean(false);
    const parts = t.error === 0 ? Array.from({ length: t.partitions }, (_, p) => p) : [];
    w.array(parts, (w, p) => {
      w.int16(leader ? KAFKA_ERRORS.NONE : KAFKA_ERRORS.LEADER_NOT_AVAILABLE);
      w.int32(p);
      w.int32(leader ? leader.node_id : -1);
      if (version >= 7) w.int32(Math.min(view.epoch, 0x7fffffff));
      w.array(leader ? replicas : [], (w, n) => w.int32(n));
      w.array(leader ? isr : [], (w, n) => w.int32(n));
      if (version >= 5) w.array([], () => {});
    });
    if (version >= 8) w.int32(-2147483648); // topic_authorized_operations: not computed
  });
  if (version >= 8) w.int32(-2147483648); // cluster_authorized_operations
  return w;
}
