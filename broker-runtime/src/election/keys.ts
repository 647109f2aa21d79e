/** Every Redis key YAK uses, namespaced by the cluster id so several clusters can share one Redis. */
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
  /** Pub/sub channel: lease released, leader elected. */
  events: string;
  /** A broker's liveness registration: JSON {id, url}, with a PX expiry. */
  broker(id: string): string;
  /** A broker's claim to be the best new leader when the in-sync set was lost (Redis restarted empty). */
  candidate(id: string): string;
}

export function clusterKeys(cluster: string): ClusterKeys {
  const p = `${cluster}:`;
  return {
    leader: `${p}leader`,
    epoch: `${p}epoch`,
    isr: `${p}isr`,
    brokers: `${p}brokers`,
    hwm: `${p}hwm`,
    topics: `${p}topics`,
    frameKeys: `${p}frame-keys`,
    events: `${p}events`,
    broker: (id) => `${p}broker:${id}`,
    candidate: (id) => `${p}candidate:${id}`,
  };
}
