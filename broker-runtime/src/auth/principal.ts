import type { SecretHash } from './secret-hash.js';
import type { TopicPatterns } from './topic-pattern.js';

/** A client identity from the auth file, with what it may do and how many bytes it may move. */
export interface Principal {
  name: string;
  secretHash: SecretHash;
  produce: TopicPatterns;
  consume: TopicPatterns;
  /** Create topics (and any later call that changes the cluster). */
  admin: boolean;
  /** Bytes per second of produce request bodies; null = unlimited. */
  inBytesPerSecond: number | null;
  /** Bytes per second of consume answers; null = unlimited. */
  outBytesPerSecond: number | null;
  /**
   * Consumer groups it may join, commit for, leave and describe (Kafka's Group ACL); absent = any
   * group, so auth files written before the field existed keep working.
   */
  groups?: TopicPatterns;
}

/** Every principal of one version of the auth file, by name. */
export interface AuthTable {
  principals: ReadonlyMap<string, Principal>;
}

/** Principal names: the token is `name:secret`, so no `:`; the same rule as broker ids. */
export const PRINCIPAL_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Whether this principal may use (and see) consumer group `group`: an admin any, else its `groups` patterns when it has them. */
export function mayUseGroup(principal: Principal, group: string): boolean {
  return principal.admin || principal.groups === undefined || principal.groups.matches(group);
}

/** A topic this principal may see in GET /topics: one it may produce to or consume from, or any for an admin. */
export function maySee(principal: Principal, topic: string): boolean {
  if (topic === GROUPS_TOPIC && !mayReadEveryGroup(principal)) return false;
  return principal.admin || principal.produce.matches(topic) || principal.consume.matches(topic);
}

/** The group coordinator's topic (groups/offsets-log.ts OFFSETS_TOPIC; auth/ does not import groups/). */
export const GROUPS_TOPIC = '__consumer_offsets';

/**
 * Whether the principal may read records of every consumer group: `__consumer_offsets` holds every
 * group's commits and generations (members, their principals, subscriptions), so reading it is
 * using every group. A principal limited by `groups` patterns was refused OffsetFetch and
 * DescribeGroups for other teams' groups yet read all of it there with `consume: ["*"]`.
 */
export function mayReadEveryGroup(principal: Principal): boolean {
  return principal.admin || principal.groups === undefined;
}
