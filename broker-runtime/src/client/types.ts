/**
 * The broker's HTTP API as JSON on the wire (DESIGN.md, "Broker HTTP API"). Kept free of server
 * types so the client compiles anywhere fetch exists.
 */

export interface LeaderRef {
  id: string;
  url: string;
}

export interface ProduceInput {
  key?: string | null;
  /** Any JSON value, null included. */
  payload: unknown;
  /** An explicit partition wins over the key's partition. */
  partition?: number;
  headers?: Record<string, string>;
}

export interface ProduceAnswer {
  topic: string;
  partition: number;
  offset: number;
}

export interface BatchAnswer {
  topic: string;
  /** One per record, in request order. */
  results: { partition: number; offset: number }[];
}

export interface ConsumedRecord<P = unknown> {
  offset: number;
  key: string | null;
  payload: P;
  timestamp: number;
  headers: Record<string, string>;
}

export interface ConsumeAnswer<P = unknown> {
  topic: string;
  partition: number;
  records: ConsumedRecord<P>[];
  next_offset: number;
  high_watermark: number;
}

export interface TopicsAnswer {
  topics: {
    name: string;
    partitions: { partition: number; high_watermark: number; log_end_offset?: number; log_start_offset?: number }[];
    /** Effective retention config (brokers with retention). */
    config?: TopicConfigValues;
  }[];
}

/** How a producer asks its records to be stored (used when the topic's compression.type is `producer`). */
export type Compression = 'none' | 'gzip' | 'lz4';

/** Kafka-named topic config: retention.ms, retention.bytes (-1 = unlimited), compression.type, min.insync.replicas (>= 1). */
export interface TopicConfigValues {
  'retention.ms'?: number;
  'retention.bytes'?: number;
  /** A codec every batch of the topic is stored with, or `producer` (the default): as each producer asks. */
  'compression.type'?: Compression | 'producer';
  'min.insync.replicas'?: number;
}

export interface CreateTopicAnswer {
  name: string;
  partitions: number;
  config?: TopicConfigValues;
}

/** GET/POST /topics/{name}/config. */
export interface TopicConfigAnswer {
  name: string;
  /** What applies: the overrides over the broker defaults. */
  config: TopicConfigValues;
  overrides: TopicConfigValues;
}

export interface LeaderAnswer {
  leader: LeaderRef | null;
  epoch: number;
  /** When no leader is named: the other brokers this one knows of, to ask instead. */
  brokers?: LeaderRef[];
}

export interface ClusterAnswer {
  cluster: string;
  epoch: number;
  leader: LeaderRef | null;
  brokers: { id: string; url: string; role: 'leader' | 'follower'; alive: boolean; in_sync: boolean }[];
}

export interface HealthAnswer {
  status: 'ok' | 'degraded';
  id: string;
  role: 'leader' | 'follower';
  epoch: number;
  lease_ms_left?: number | null;
  redis?: boolean;
}

export type MetricsAnswer = Record<string, unknown>;

/** Every error answer: `{error, message, ...extra}` (NOT_LEADER adds `leader`). */
export interface ErrorAnswer {
  error: string;
  message: string;
  leader?: LeaderRef | null;
  /** NOT_LEADER without a leader: the other brokers the answering one knows of, and when to ask again. */
  brokers?: LeaderRef[];
  retry_after_ms?: number;
  [extra: string]: unknown;
}

// ---- consumer groups (docs/consumer-groups.md)

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export type GroupStrategy = 'range' | 'roundrobin' | 'sticky';

export interface JoinGroupInput {
  topics: string[];
  memberId?: string;
  clientId?: string;
  strategy?: GroupStrategy;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
}

export interface JoinGroupAnswer {
  group: string;
  member_id: string;
  generation: number;
  strategy: string;
  partitions: TopicPartitionRef[];
  session_timeout_ms: number;
  heartbeat_interval_ms: number;
}

export interface CommitOffsetsAnswer {
  group: string;
  /** What is committed now: never lower than before (a lower commit is not written). */
  offsets: (TopicPartitionRef & { committed_offset: number })[];
}

export interface GroupOffsetsAnswer {
  group: string;
  offsets: (TopicPartitionRef & { offset: number; metadata: string })[];
}

export interface GroupsAnswer {
  groups: { group: string; state: string; protocol_type: string; generation: number; members: number; lag: number }[];
}

export interface GroupAnswer {
  group: string;
  state: 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';
  protocol_type: string;
  protocol: string;
  generation: number;
  leader: string | null;
  members: { member_id: string; client_id: string; session_timeout_ms: number; rebalance_timeout_ms: number; topics: string[]; partitions: TopicPartitionRef[] }[];
  offsets: (TopicPartitionRef & { committed_offset: number | null; high_watermark: number; lag: number | null; metadata: string; commit_timestamp: number | null; member_id: string | null })[];
  lag: number;
}

export type ResetTarget = { to: 'earliest' } | { to: 'latest' } | { to: 'timestamp'; timestamp: number } | { to: 'offset'; offset: number };

export type ResetOffsetsInput = ResetTarget & { topic?: string; partitions?: number[]; dryRun?: boolean };

export interface ResetOffsetsAnswer {
  group: string;
  dry_run: boolean;
  offsets: (TopicPartitionRef & { committed_offset: number })[];
}
