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
}

/** Every principal of one version of the auth file, by name. */
export interface AuthTable {
  principals: ReadonlyMap<string, Principal>;
}

/** Principal names: the token is `name:secret`, so no `:`; the same rule as broker ids. */
export const PRINCIPAL_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** A topic this principal may see in GET /topics: one it may produce to or consume from, or any for an admin. */
export function maySee(principal: Principal, topic: string): boolean {
  return principal.admin || principal.produce.matches(topic) || principal.consume.matches(topic);
}
