import type { FsyncPolicy } from '../log/types.js';
import type { PemFile, ServerTls } from './tls.js';

/** The broker's whole configuration, parsed and validated once at start (config/parse.ts). */
export interface BrokerConfig {
  id: string;
  host: string;
  port: number;
  advertisedUrl: string;
  dataDir: string;
  /** The Redis server; with Sentinels only its scheme, user, password and database count. */
  redisUrl: string;
  /** --redis-sentinels: find the master through these; empty = talk to redisUrl's server itself. */
  redisSentinels: RedisSentinelAddress[];
  /** --redis-master-name: the master's name in the Sentinels' configuration. */
  redisMasterName: string;
  /** --redis-sentinel-password: AUTH for the Sentinels themselves; null = none. */
  redisSentinelPassword: string | null;
  /** --redis-wait-replicas: replicas that must hold a new lease or in-sync set before it is acted on (WAIT). */
  redisWaitReplicas: number;
  cluster: string;
  leaseMs: number;
  renewMs: number;
  defaultPartitions: number;
  minInsync: number;
  /** A follower that has not caught up for this long leaves the in-sync set. */
  replicaLagMs: number;
  /** Let a broker outside the in-sync set take the lease (may lose committed records). */
  uncleanElection: boolean;
  segmentBytes: number;
  /** --retention-hours in ms: a segment whose newest record is older goes; null = never (-1). */
  retentionMs: number | null;
  /** --retention-bytes per partition; null = unlimited (-1). */
  retentionBytes: number | null;
  /** How often the leader applies retention. */
  retentionCheckMs: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  /** Segment data files kept open at once (log/file-handle-cache.ts). */
  maxOpenFiles: number;
  /** --max-groups: consumer groups the coordinator holds at most (memory bound against hostile clients). */
  maxGroups: number;
  /**
   * --max-partitions: partitions of all topics together, at most (every broker holds each one: a
   * folder, files, memory). Any produce to a new topic name creates one, so without it a client
   * inventing names filled the disks and the brokers' memory.
   */
  maxPartitions: number;
  /** --max-group-members: members per group (Kafka's group.max.size). */
  maxGroupMembers: number;
  /** --max-connections: HTTP connections served at once; past it only proven replication connections are kept (http/connection-limit.ts). */
  maxConnections: number;
  /** Largest accepted request body (and so record) in bytes. */
  maxMessageBytes: number;
  /** How long a produce waits for its records to commit before answering 503/504. */
  produceTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** text: one readable line per event; json: one JSON object per line (logger.ts). */
  logFormat: 'text' | 'json';
  /** Browser origins allowed to call this broker (exact `scheme://host[:port]`, or `*`); none by default. */
  allowOrigins: string[];
  /**
   * --allow-host: host names (canonical: lower case, punycode, no trailing dot), or `*`, answered
   * besides IP literals, localhost and the advertised URL's host; none by default.
   */
  allowHosts: string[];
  /** Absolute path of the principals file (--auth-file); null = clients need no token. */
  authFile: string | null;
  /** Listen on a non-loopback host without an auth file (turns protected mode off). */
  insecure: boolean;
  /** --tls-cert/--tls-key (and --tls-client-auth): serve HTTPS; null = plain HTTP. */
  tls: ServerTls | null;
  /** --kafka-port: the Kafka listener's port; null = no Kafka listener. */
  kafkaPort: number | null;
  /** --kafka-advertised (or the advertised URL's host and --kafka-port): what Metadata tells clients; null without a listener. */
  kafkaAdvertised: { host: string; port: number } | null;
  /** --node-id, or derived from --id (kafka/node-id.ts). */
  nodeId: number;
  /** --kafka-max-connections: Kafka connections open at once; past it new ones are closed at accept. */
  kafkaMaxConnections: number;
  /**
   * --replication-stream: as leader, send frames over one upgraded connection per follower
   * (replication/stream-transport.ts); as follower, accept such connections. Off: POST per frame.
   */
  replicationStream: boolean;
  /** --tls-ca: CAs trusted for other brokers, rediss:// and client certificates; null = the system CAs. */
  tlsCa: PemFile | null;
}

export interface RedisSentinelAddress {
  host: string;
  port: number;
}
