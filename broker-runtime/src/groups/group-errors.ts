import { YakError } from '../errors/errors.js';

/**
 * The refusals of the group coordinator, named as Kafka names them so that the Kafka listener can
 * map each one to its protocol error code directly. A refusal changes nothing.
 */
export const unknownGroup = (group: string) => YakError.of('UNKNOWN_GROUP', `group '${group}' does not exist`);
export const unknownMember = (group: string, memberId: string) =>
  YakError.of('UNKNOWN_MEMBER_ID', `group '${group}' has no member '${memberId}' (it left, or its session expired): join again without a member id`);
export const illegalGeneration = (group: string, got: number, current: number) =>
  YakError.of('ILLEGAL_GENERATION', `generation ${got} of group '${group}' is not the current one (${current}): join again`, { generation: current });
export const rebalanceInProgress = (group: string) =>
  YakError.of('REBALANCE_IN_PROGRESS', `group '${group}' is rebalancing: join again`);
export const inconsistentProtocol = (group: string, why: string) => YakError.of('INCONSISTENT_GROUP_PROTOCOL', `group '${group}': ${why}`);
export const nonEmptyGroup = (group: string, members: number) =>
  YakError.of('NON_EMPTY_GROUP', `group '${group}' has ${members} member(s): offsets are reset only when it has none (stop its consumers first)`);
export const metadataTooLarge = (bytes: number, limit: number) =>
  YakError.of('OFFSET_METADATA_TOO_LARGE', `offset metadata of ${bytes} bytes is over the limit of ${limit} bytes`);
export const invalidCommitOffset = (topic: string, partition: number, offset: number, why: string) =>
  YakError.of('INVALID_COMMIT_OFFSET', `offset ${offset} of ${topic}/${partition}: ${why}`);
export const groupMaxSizeReached = (group: string, limit: number) =>
  YakError.of('GROUP_MAX_SIZE_REACHED', `group '${group}' has ${limit} members already, the most a group may have (--max-group-members)`, { limit });
export const tooManyGroups = (group: string, limit: number) =>
  YakError.of('TOO_MANY_GROUPS', `cannot create group '${group}': the coordinator holds ${limit} groups already, the most it may (--max-groups)`, { limit });
export const loadInProgress = () =>
  YakError.of('COORDINATOR_LOAD_IN_PROGRESS', 'this leader is still reading the committed offsets and groups back; ask again in a moment', { retry_after_ms: 200 });
