import { KAFKA_ERRORS, kafkaCodeOf } from '../../protocol/error-codes.js';

/**
 * Kafka's code for a refusal of a group request, as Kafka's coordinator answers it: this broker not
 * leading is NOT_COORDINATOR (the client looks for the coordinator again); a coordinator write that
 * could not be committed (not enough replicas, a timeout, no leader) is COORDINATOR_NOT_AVAILABLE,
 * which clients retry after finding the coordinator again, as Kafka's GroupMetadataManager maps them.
 */
export function groupCodeOf(err: unknown): number {
  // The coordinator's FORBIDDEN: a member joined by another principal (Kafka's Group ACL refusal).
  if ((err as { code?: unknown }).code === 'FORBIDDEN') return KAFKA_ERRORS.GROUP_AUTHORIZATION_FAILED;
  const code = kafkaCodeOf(err);
  switch (code) {
    case KAFKA_ERRORS.NOT_LEADER_OR_FOLLOWER:
      return KAFKA_ERRORS.NOT_COORDINATOR;
    case KAFKA_ERRORS.NOT_ENOUGH_REPLICAS:
    case KAFKA_ERRORS.REQUEST_TIMED_OUT:
    case KAFKA_ERRORS.LEADER_NOT_AVAILABLE:
    case KAFKA_ERRORS.KAFKA_STORAGE_ERROR:
      return KAFKA_ERRORS.COORDINATOR_NOT_AVAILABLE;
    default:
      return code;
  }
}
