export { GroupCoordinator, type CoordinatorHost, type JoinRequest, type SyncRequest, type CommitRequest, type ResetRequest, type OffsetAnswer } from './coordinator.js';
export { MAX_OFFSET_METADATA_BYTES, SESSION_TIMEOUT_MS, REBALANCE_TIMEOUT_MS } from './coordinator.js';
export { OFFSETS_TOPIC } from './offsets-log.js';
export { STRATEGIES, assign, isStrategy, type Strategy, type TopicPartition } from './assignors.js';
export { YAK_PROTOCOL_TYPE, encodeSubscription, decodeAssignment } from './rest-protocol.js';
export type { GroupView, GroupSummary } from './group-view.js';
export type { JoinResult, Protocol } from './group.js';
