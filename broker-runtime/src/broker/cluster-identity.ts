import { randomUUID } from 'node:crypto';

/**
 * Which cluster a data folder belongs to. A cluster's identity is a random id set once in Redis
 * (`{<cluster>}:cluster-uuid`, SET NX) and remembered in every broker's broker-state.json. A broker
 * whose folder remembers another identity than the Redis namespace it joins holds another
 * cluster's logs — pointed at the wrong Redis or database, two clusters sharing one Redis under
 * the default `--cluster yak`, a disk copied from another cluster — and joining would let this
 * cluster's leader cut its logs to match: records the other cluster acknowledged, gone.
 *
 * A Redis that lost its data is not another cluster: it holds no identity, and the broker that
 * leads again (a member of the in-sync set, so one that remembers the identity) sets it back with
 * its lease. Only a lease acquisition names a namespace, so a broker of another cluster started
 * on a new cluster's Redis before its first election cannot name it with its own identity, and a
 * broker with an empty folder cannot lead (so name) a cluster whose in-sync set is still remembered.
 */
export interface IdentityPorts {
  /** What this data folder remembers (broker-state.json), or null (a new folder, or an older version's). */
  remembered: string | null;
  read(): Promise<string | null>;
  /** SET NX, then the identity Redis holds. */
  claim(id: string): Promise<string>;
  remember(id: string): Promise<void>;
  /** Whether this broker leads now: only a leader names a cluster no one named yet. */
  leading: boolean;
}

export type IdentityVerdict =
  | { state: 'ok'; identity: string }
  /** No identity anywhere yet and this broker does not lead: asked again later. */
  | { state: 'unknown' }
  | { state: 'other-cluster'; remembered: string; found: string };

export async function checkClusterIdentity(ports: IdentityPorts): Promise<IdentityVerdict> {
  const found = await ports.read();
  if (found === null) {
    // Only a leader names a namespace (its lease acquisition does, atomically: ACQUIRE_LUA; this
    // covers a leader elected before that). A follower that restored its remembered identity into
    // an empty namespace could claim another cluster's new namespace, whose leader has not named it yet.
    if (!ports.leading) return { state: 'unknown' };
    const named = await ports.claim(ports.remembered ?? randomUUID());
    if (ports.remembered !== null && named !== ports.remembered) return { state: 'other-cluster', remembered: ports.remembered, found: named };
    await ports.remember(named);
    return { state: 'ok', identity: named };
  }
  if (ports.remembered === null) {
    await ports.remember(found);
    return { state: 'ok', identity: found };
  }
  return ports.remembered === found ? { state: 'ok', identity: found } : { state: 'other-cluster', remembered: ports.remembered, found };
}

/** The line a broker stops with when its data folder belongs to another cluster. */
export function otherClusterLine(v: { remembered: string; found: string }, where: { dataDir: string; redis: string; cluster: string; identityKey: string }): string {
  return (
    `the data folder ${where.dataDir} (--data-dir) belongs to another cluster (identity ${v.remembered}) than the one at --redis ${where.redis} --cluster ${where.cluster} (identity ${v.found}); ` +
    'joining would let that cluster\'s leader overwrite this folder\'s logs. Point --redis (REDIS_URL; its database number too) and --cluster (CLUSTER_ID) at the cluster this folder belongs to, ' +
    'or --data-dir at an empty folder (or this broker\'s own) to join this one. If the folder does belong here (this Redis was replaced, and a new broker named it first), ' +
    `give Redis the folder's identity back: redis-cli SET '${where.identityKey}' ${v.remembered}, with every broker of the cluster stopped`
  );
}
