import type { Principal } from '../auth/principal.js';
import type { ProduceRecord, ProduceResult } from '../broker/service.js';
import type { GroupCoordinator } from '../groups/index.js';
import type { SupportedCodec } from '../log/compression/index.js';
import type { PartitionLog, TopicInfo } from '../log/types.js';

/** Where Kafka clients reach a broker, as it registers it in Redis and Metadata tells clients. */
export interface KafkaAddress {
  node_id: number;
  host: string;
  port: number;
}

/** The cluster as the Kafka listener describes it in Metadata. */
export interface KafkaClusterView {
  cluster: string;
  selfId: string;
  /** This broker's own address. */
  self: KafkaAddress;
  /** The leader's broker id and its Kafka address (null when none is known or it has no Kafka listener). */
  leader: { id: string; kafka: KafkaAddress | null } | null;
  epoch: number;
  /** Every live broker with a Kafka listener, this one included. */
  brokers: { id: string; kafka: KafkaAddress }[];
  /** Broker ids of the in-sync set as this broker last saw it. */
  inSync: string[];
}

/**
 * What the Kafka listener needs from the broker: the same produce path, logs and waiters the REST
 * API uses (one log for both worlds), plus who leads. Broker implements it (kafkaBackend()).
 */
export interface KafkaBackend {
  view(): KafkaClusterView;
  topics(): TopicInfo[];
  partition(topic: string, partition: number): PartitionLog | undefined;
  /** Resolves true once the partition's high-water mark passes `offset`, false after `waitMs`. */
  waitCommitted(log: PartitionLog, offset: number, waitMs: number): Promise<boolean>;
  /**
   * The broker's produce: commits before it resolves; throws YakErrors (NOT_LEADER, ...).
   * `compression` is the producer's codec (stored with when the topic's compression.type is `producer`).
   */
  produce(topic: string, records: ProduceRecord[], compression: SupportedCodec, beforeAppend?: BeforeAppend): Promise<ProduceResult[]>;
  createTopic(name: string, partitions: number): Promise<void>;
  /** The next (lease epoch, n) pair for a producer id, counted in Redis so any broker can give ids out (idempotence/producer-ids.ts). */
  nextProducerId(): Promise<{ epoch: number; n: number }>;
  /** The consumer-group coordinator (groups/): active on the cluster leader only. */
  groups: KafkaGroups;
  defaultPartitions: number;
  maxMessageBytes: number;
}

/**
 * Called in the same synchronous step as a partition's log append, after every refusal the broker
 * makes before writing (not leader, not enough replicas): it may refuse by throwing (nothing is
 * written), and answers what to call once the append settles (where it went, or null if it failed).
 * The idempotent producer's sequence check (kafka/idempotence/).
 */
export type BeforeAppend = (partition: number, log: PartitionLog) => (written: { baseOffset: number; lastOffset: number } | null) => void;

/** What the Kafka group APIs call on the coordinator (the same methods the REST group routes call). */
export type KafkaGroups = Pick<GroupCoordinator, 'join' | 'sync' | 'heartbeat' | 'leave' | 'commit' | 'fetchOffsets' | 'describeRaw' | 'list'>;

/** The auth file's principals, as the listener checks them (auth/gate.ts); null = no --auth-file. */
export interface KafkaAuth {
  /** The principal of `name` with `secret`; throws when there is none. */
  authenticate(name: string, secret: string): Promise<Principal>;
  /**
   * The principal authenticated earlier as the auth file says now (SIGHUP reloads it): its current
   * permissions and quotas, or null when it was removed or its secret changed since.
   */
  current(principal: Principal): Principal | null;
  /** Null when allowed, else why not. */
  check(principal: Principal, action: { op: 'produce' | 'consume'; topic: string } | { op: 'admin' } | { op: 'describe' }): string | null;
  maySee(principal: Principal, topic: string): boolean;
  /** Counts bytes against the principal's quota (in = produced, out = fetched); the throttle time it now owes, in ms. */
  charge(principal: Principal, direction: 'in' | 'out', bytes: number): number;
}
