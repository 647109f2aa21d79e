/**
 * What a broker checks of the Redis server it was given, from `INFO server` and `INFO memory`
 * (INFO is allowed to the restricted ACL user the README suggests; CONFIG GET is not).
 */
export interface RedisServerFacts {
  version: string | null;
  /** Bytes; 0 = no limit (nothing is ever evicted then, whatever the policy). */
  maxmemory: number;
  policy: string | null;
}

/** Parses INFO's `field:value` lines. */
export function parseInfo(text: string): RedisServerFacts {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) fields.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  const maxmemory = Number(fields.get('maxmemory') ?? 0);
  return { version: fields.get('redis_version') ?? null, maxmemory: Number.isFinite(maxmemory) ? maxmemory : 0, policy: fields.get('maxmemory_policy') ?? null };
}

/**
 * The warning for a Redis that may evict the cluster's keys, or null. Only `noeviction` keeps
 * them when Redis is full: `allkeys-*` evicts any key, `volatile-*` exactly the keys with an
 * expiry — the leader lease and the brokers' registrations. A lease evicted early lets a second
 * broker lead while the first still writes; an evicted epoch counter or in-sync set looks like a
 * Redis that lost its data.
 */
export function evictionWarning(facts: RedisServerFacts, redis: string): string | null {
  if (facts.maxmemory <= 0 || facts.policy === null || facts.policy === 'noeviction') return null;
  const mb = Math.round(facts.maxmemory / (1024 * 1024));
  return (
    `Redis ${redis} may evict this cluster's keys: maxmemory ${mb} MB with maxmemory-policy ${facts.policy}. Once full it can drop the leader lease ` +
    '(a second broker then leads while the first still writes), the epoch counter or the in-sync set. ' +
    'Set maxmemory-policy noeviction on it (redis.conf, or CONFIG SET maxmemory-policy noeviction), or give the cluster a Redis of its own with no memory limit'
  );
}
