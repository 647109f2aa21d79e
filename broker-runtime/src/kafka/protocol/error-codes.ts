import { isStorageError } from '../../log/storage-error.js';

/**
 * Kafka's error codes that this listener answers (org.apache.kafka.common.protocol.Errors), and
 * the one mapping from YAK's errors (errors/error-table.ts) to them.
 */
export const KAFKA_ERRORS = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  NOT_ENOUGH_REPLICAS: 19,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  GROUP_AUTHORIZATION_FAILED: 30,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  KAFKA_STORAGE_ERROR: 56,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  SASL_AUTHENTICATION_FAILED: 58,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  GROUP_MAX_SIZE_REACHED: 81,
  INVALID_RECORD: 87,
} as const;

export type KafkaErrorName = keyof typeof KAFKA_ERRORS;

/** A refusal of one part of a request (a partition, a topic), answered with Kafka's code. */
export class KafkaError extends Error {
  readonly code: number;
  constructor(
    readonly kafka: KafkaErrorName,
    message: string,
  ) {
    super(message);
    this.name = kafka;
    this.code = KAFKA_ERRORS[kafka];
  }
}

/** YAK's error code (YakError.code) → Kafka's. */
const FROM_YAK: Record<string, KafkaErrorName> = {
  NOT_LEADER: 'NOT_LEADER_OR_FOLLOWER',
  NOT_ENOUGH_REPLICAS: 'NOT_ENOUGH_REPLICAS',
  // Written, outcome unknown: the client retries (and may duplicate, as with Kafka without idempotence).
  TIMEOUT: 'REQUEST_TIMED_OUT',
  UNAVAILABLE: 'REQUEST_TIMED_OUT',
  UNKNOWN_TOPIC: 'UNKNOWN_TOPIC_OR_PARTITION',
  UNKNOWN_PARTITION: 'UNKNOWN_TOPIC_OR_PARTITION',
  OFFSET_OUT_OF_RANGE: 'OFFSET_OUT_OF_RANGE',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  TOPIC_EXISTS: 'TOPIC_ALREADY_EXISTS',
  INVALID_REQUEST: 'INVALID_REQUEST',
  FORBIDDEN: 'TOPIC_AUTHORIZATION_FAILED',
  INSUFFICIENT_STORAGE: 'KAFKA_STORAGE_ERROR',
  // The group coordinator's refusals (groups/group-errors.ts) carry Kafka's own names.
  UNKNOWN_MEMBER_ID: 'UNKNOWN_MEMBER_ID',
  ILLEGAL_GENERATION: 'ILLEGAL_GENERATION',
  REBALANCE_IN_PROGRESS: 'REBALANCE_IN_PROGRESS',
  INCONSISTENT_GROUP_PROTOCOL: 'INCONSISTENT_GROUP_PROTOCOL',
  COORDINATOR_LOAD_IN_PROGRESS: 'COORDINATOR_LOAD_IN_PROGRESS',
  OFFSET_METADATA_TOO_LARGE: 'OFFSET_METADATA_TOO_LARGE',
  NON_EMPTY_GROUP: 'NON_EMPTY_GROUP',
  UNKNOWN_GROUP: 'GROUP_ID_NOT_FOUND',
  GROUP_MAX_SIZE_REACHED: 'GROUP_MAX_SIZE_REACHED',
  // Kafka has no cap on the number of groups: its nearest refusal that a client does not retry.
  TOO_MANY_GROUPS: 'GROUP_MAX_SIZE_REACHED',
  // Kafka has no cap on partitions either; its refusal of a partition count, which clients do not retry.
  TOO_MANY_PARTITIONS: 'INVALID_PARTITIONS',
  // Kafka does not check committed offsets; YAK refuses one past the high-water mark.
  INVALID_COMMIT_OFFSET: 'OFFSET_OUT_OF_RANGE',
};

/** The Kafka code for anything a handler caught; unknown errors are UNKNOWN_SERVER_ERROR (-1). */
export function kafkaCodeOf(err: unknown): number {
  if (err instanceof KafkaError) return err.code;
  if (isStorageError(err)) return KAFKA_ERRORS.KAFKA_STORAGE_ERROR;
  const code = (err as { code?: unknown }).code;
  const name = typeof code === 'string' ? FROM_YAK[code] : undefined;
  return name ? KAFKA_ERRORS[name] : KAFKA_ERRORS.UNKNOWN_SERVER_ERROR;
}
