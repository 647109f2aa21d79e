import type { LeaderRef } from '../errors/errors.js';
import type { StorageView } from '../log/storage-health.js';
import type { SupportedCodec } from '../log/compression/codecs.js';
import type { TopicConfig } from '../log/topic-config.js';
import type { GroupCoordinator } from '../groups/coordinator.js';

/**
 * What the HTTP layer asks of a broker. The HTTP layer validates the shape of requests (types,
 * topic names, sizes) and maps YakErrors to statuses; the service decides everything else and
 * throws YakErrors (NOT_LEADER, UNKNOWN_TOPIC, ...).
 */
export interface ProduceRecord {
  key: string | null;
  /** The payload as JSON text (the HTTP layer re-serialises the parsed value once). */
  payload: string;
  headers: Record<string, string>;
  /** The payload's UTF-8 bytes exactly, when the caller has them (a Kafka value stored as it is): RecordInput.payloadBytes. */
  payloadBytes?: Buffer;
  partition?: number;
  /** ms since the Unix epoch: a Kafka producer's record timestamp (CreateTime); the broker's clock when absent. */
  timestamp?: number;
}

export interface ProduceResult {
  partition: number;
  offset: number;
}

export interface ConsumedRecord {
  offset: number;
  key: string | null;
  /** JSON text; the HTTP layer embeds it as a JSON value without re-parsing. */
  payload: string;
  timestamp: number;
  headers: Record<string, string>;
}

export interface ConsumeResult {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  next_offset: number;
  high_watermark: number;
}

/**
 * A consume answer with its records still encoded as stored, all committed. The broker does not
 * look inside them: the HTTP layer, which renders them (http/consume-render.ts), tells it through
 * `served` how many records and payload bytes went out, for the topic's counters.
 */
export interface EncodedConsumeResult {
  topic: string;
  partition: number;
  /** The offset asked for: the first record's; with no record read, next_offset is the larger of it and the high-water mark (only gaps lay below). */
  offset: number;
  /** Whole encoded records with increasing offsets from `offset` (a compacted topic's have gaps), split wherever the log's reads were. */
  records: Buffer[];
  high_watermark: number;
  served(records: number, payloadBytes: number): void;
}

export interface TopicView {
  name: string;
  partitions: { partition: number; high_watermark: number; log_end_offset: number; log_start_offset: number }[];
  /** The effective config: the topic's overrides over the broker's defaults (-1 = unlimited). */
  config: Required<TopicConfig>;
  /** The group coordinator's own topic (__consumer_offsets): GET /topics leaves it out unless ?internal=true. */
  internal?: true;
}

/** GET /topics/{name}/config. */
export interface TopicConfigView {
  name: string;
  /** What applies (overrides over the broker's defaults; -1 = unlimited). */
  config: Required<TopicConfig>;
  /** The topic's own overrides only. */
  overrides: TopicConfig;
}

export interface BrokerView {
  id: string;
  url: string;
  role: 'leader' | 'follower';
  alive: boolean;
  in_sync: boolean;
}

export interface ClusterView {
  cluster: string;
  epoch: number;
  leader: LeaderRef | null;
  brokers: BrokerView[];
}

export interface HealthView {
  status: 'ok' | 'degraded';
  id: string;
  role: 'leader' | 'follower';
  epoch: number;
  /** Milliseconds of lease left as this broker measures it (leader only), else null. */
  lease_ms_left: number | null;
  /** Whether this broker can reach Redis right now. */
  redis: boolean;
  /** Partitions ("topic/partition") cut at start-up below committed data, not yet re-fetched: this broker will not lead. */
  unclean_partitions: string[];
  /** The data folder's storage: `faulted` while it refuses writes (a full disk, an I/O error); then this broker will not lead. */
  storage: StorageView;
  /** Random per process: a check of the advertised URL (and an operator) can tell this process from another. */
  instance: string;
  /**
   * The identity of the cluster this data folder belongs to (`{<cluster>}:cluster-uuid`, see
   * broker/cluster-identity.ts), null until known: brokers answering different ones are in different
   * clusters, whatever their --cluster says (another Redis, or database).
   */
  cluster_identity: string | null;
  /** Whether GET <advertised URL>/health reached this very process at start (advertised-check.ts). */
  advertised_url: { url: string; check: 'pending' | 'ok' | 'unreachable' | 'other-broker' | 'unknown'; detail?: string };
  /** A follower: the leader it follows and how long since it last applied a frame from a leader (null: never). */
  replication: { leader: string | null; ms_since_last_frame: number | null } | null;
  /** Why `status` is `degraded` (empty when ok). */
  degraded_reasons: string[];
}

/** GET /ready: the health view, whether the broker can serve its role, and if not why. */
export interface ReadyView extends HealthView {
  ready: boolean;
  reasons: string[];
}

export interface BrokerService {
  /**
   * `compression`: the producer's codec, used when the topic's compression.type is `producer` (its
   * default); a topic with a codec of its own stores every batch with that one.
   */
  produce(topic: string, records: ProduceRecord[], compression?: SupportedCodec): Promise<ProduceResult[]>;
  consume(topic: string, partition: number, offset: number, max: number, waitMs: number): Promise<ConsumeResult>;
  /**
   * The same answer as consume(), records left encoded: the HTTP layer copies the stored JSON out
   * as bytes instead of decoding every record to strings and encoding them again. Optional: the
   * HTTP layer falls back to consume().
   */
  consumeEncoded?(topic: string, partition: number, offset: number, max: number, waitMs: number): Promise<EncodedConsumeResult>;
  topics(): TopicView[];
  createTopic(name: string, partitions: number, config?: TopicConfig): Promise<void>;
  topicConfig(name: string): TopicConfigView;
  /** Leader only: merge `change` (a key set to null drops that override) into the topic's config; answers the result. */
  setTopicConfig(name: string, change: unknown): Promise<TopicConfigView>;
  /** `brokers` (the other brokers this one knows of) only when it names no leader: ask them instead. */
  leader(): { leader: LeaderRef | null; epoch: number; brokers?: LeaderRef[] };
  cluster(): Promise<ClusterView>;
  health(): HealthView;
  /** GET /ready (answered 200 when ready, else 503). Optional: without it /ready follows /health's status. */
  ready?(): ReadyView;
  /** Counters, gauges and histograms as a flat JSON object (metrics/registry.ts: toJSON), with the broker id, role, epoch, in-sync set and replica progress. */
  metrics(): Record<string, unknown>;
  /** The same metrics in the Prometheus text exposition format (GET /metrics?format=prometheus). */
  prometheus?(): string;
  /** Consumer groups (the /groups routes); absent: those routes answer 404. */
  readonly groups?: GroupCoordinator;
  /**
   * Internal: the replication endpoint. Body and answer are binary frames (replication/wire.ts).
   * `onAuthenticated` is called once the frame's MAC matched, before it is applied.
   */
  replicate(frame: Buffer, auth: string | string[] | undefined, onAuthenticated?: () => void): Promise<Buffer>;
  /**
   * Internal: before a POSTed frame's body is read, rejects (401 UNAUTHENTICATED) a frame that can
   * never authenticate (x-yak-frame-auth missing, malformed, or naming an epoch without a frame key)
   * and answers whether x-yak-frame-sender proves the poster holds the key (replication/sender-proof.ts).
   * Optional: without it only the header's form is checked and no sender counts as proven.
   */
  admitFrame?(auth: string | string[] | undefined, sender: string | string[] | undefined, length: number): Promise<boolean>;
}
