/**
 * Every Redis key YAK uses, namespaced by the cluster id so several clusters can share one Redis.
 *
 * Every name starts with the hash tag `{<cluster>}`: Redis Cluster hashes only the part inside the
 * braces, so all of a cluster's keys live in one slot and every Lua script and MULTI (which must
 * not touch keys of two slots) runs on a Redis Cluster as on one server. Versions before the tag
 * used `<cluster>:…` (LEGACY_LEASE_KEY): brokers of the two versions must not run together.
 */
export interface ClusterKeys {
  /** The leader lease: JSON {id, url, epoch}, with a PX expiry. */
  leader: string;
  /** The highest epoch ever handed out (a counter). */
  epoch: string;
  /** The in-sync replica set: JSON {epoch, members}. Written only by the leader, fenced by its lease. */
  isr: string;
  /** Set of every broker id that ever registered (so dead ones still show up). */
  brokers: string;
  /** Per-partition high-water marks mirrored by the leader: hash "topic/partition" -> hwm. */
  hwm: string;
  /** Topic metadata mirrored by the leader: hash name -> partition count. */
  topics: string;
  /** Hash epoch -> the frame key of that leadership (replication/frame-auth.ts); the newest 8 epochs. */
  frameKeys: string;
  /** Hash {epoch, next}: producer ids counted within the lease's epoch (PRODUCER_ID_LUA). */
  producerIds: string;
  /** Pub/sub channel: lease released, leader elected. */
  events: string;
  /** A broker's liveness registration: JSON {id, url}, with a PX expiry. */
  broker(id: string): string;
  /** A broker's claim to be the best new leader when the in-sync set was lost (Redis restarted empty). */
  candidate(id: string): string;
  /**
   * Hash {epoch, isr}: the highest epoch and the newest in-sync set any candidacy stated since this
   * Redis started, with no expiry (STATE_HISTORY_LUA), so what a broker stated is not forgotten when
   * its candidacy expires while its link stalls.
   */
  statedHistory: string;
  /** The lease key of versions before the hash tag: if it exists, an old broker is running. */
  legacyLeader: string;
  /**
   * The cluster's identity: a random id set once (SET NX) and remembered in every broker's
   * broker-state.json, so a data folder of another cluster is told from this one's (broker/cluster-identity.ts).
   */
  identity: string;
}

/** The prefix of every key of `cluster`: a hash tag, so they all share one Redis Cluster slot. */
export function keyPrefix(cluster: string): string {
  return `{${cluster}}:`;
}

export function clusterKeys(cluster: string): ClusterKeys {
  const p = keyPrefix(cluster);
  return {
    leader: `${p}leader`,
    epoch: `${p}epoch`,
    isr: `${p}isr`,
    brokers: `${p}brokers`,
    hwm: `${p}hwm`,
    topics: `${p}topics`,
    frameKeys: `${p}frame-keys`,
    producerIds: `${p}producer-ids`,
    events: `${p}events`,
    broker: (id) => `${p}broker:${id}`,
    candidate: (id) => `${p}candidate:${id}`,
    statedHistory: `${p}stated-history`,
    legacyLeader: `${cluster}:leader`,
    identity: `${p}cluster-uuid`,
  };
}
