/**
 * What one poll of the brokers' HTTP API saw, as plain data, and the parsers that read the
 * brokers' JSON defensively (a field missing or of the wrong type reads as "not known").
 */

export interface HealthObs {
  role: 'leader' | 'follower';
  epoch: number;
  leaseMsLeft: number | null;
  /**
   * When the /health request was sent (set by the poller). The broker measured lease_ms_left after
   * that, so the lease ends no earlier than askedAt + leaseMsLeft, and no later than that plus the
   * request's round trip. Counting down from askedAt never shows more lease than is left; counting
   * from the answer's arrival showed a starved machine's round trip as lease (1917 ms shown where at
   * most 1295 ms could remain).
   */
  askedAt?: number;
  /** Whether the broker itself reaches Redis (null: it did not say). */
  redis: boolean | null;
}

export interface PartitionObs {
  partition: number;
  highWatermark: number;
  logEndOffset: number;
  /** 0 (or absent) from brokers without retention. */
  logStartOffset?: number;
}

export interface TopicObs {
  name: string;
  partitions: PartitionObs[];
  /** The effective config the broker reports (Kafka names → numbers); empty from older brokers. */
  config?: Record<string, number>;
}

export interface ClusterBrokerObs {
  id: string;
  url: string;
  role: 'leader' | 'follower' | null;
  alive: boolean;
  inSync: boolean;
}

export interface ClusterViewObs {
  epoch: number;
  leader: { id: string; url: string } | null;
  brokers: ClusterBrokerObs[];
}

export interface Observation {
  at: number;
  /** Brokers that answered /health, by id. */
  health: Map<string, HealthObs>;
  /** Each answering broker's own view of its logs, by broker id. */
  topics: Map<string, TopicObs[]>;
  /** /metadata/cluster as the leader (or, without one, any broker) sees it; null if nobody answered. */
  cluster: ClusterViewObs | null;
  /** /metrics of every answering broker, by id. */
  metrics: Map<string, Record<string, unknown>>;
  /** The broker that claims leadership with the highest epoch, among those that answered. */
  leaderId: string | null;
  /** The leader's GET /groups this round (unset: no leader answered it). */
  groups?: GroupObs[];
  /** Whether the supervisor's own ping reached Redis this round (unset: not asked). */
  redisReachable?: boolean;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function role(v: unknown): 'leader' | 'follower' | null {
  return v === 'leader' || v === 'follower' ? v : null;
}

function leaderRef(v: unknown): { id: string; url: string } | null {
  if (!isObj(v)) return null;
  const id = str(v['id']);
  return id ? { id, url: str(v['url']) ?? '' } : null;
}

export function parseHealth(body: unknown): HealthObs | null {
  if (!isObj(body)) return null;
  const r = role(body['role']);
  if (!r) return null;
  const redis = body['redis'];
  return { role: r, epoch: num(body['epoch']) ?? 0, leaseMsLeft: num(body['lease_ms_left']), redis: typeof redis === 'boolean' ? redis : null };
}

/**
 * The leader as the brokers themselves say it: the broker whose own /health claims the leader
 * role, with the highest epoch among such claims. Not /metadata/cluster's `leader`, which on a
 * follower is whoever it last saw in Redis (stale while Redis is down or a new lease is young).
 */
export function claimedLeader(obs: Observation): { id: string; epoch: number } | null {
  let best: { id: string; epoch: number } | null = null;
  for (const [id, h] of obs.health) {
    if (h.role === 'leader' && (!best || h.epoch > best.epoch)) best = { id, epoch: h.epoch };
  }
  return best;
}

/**
 * The in-sync set and registrations, when they can be believed: /metadata/cluster answered by the
 * broker that claims the lead, while that broker reaches Redis. A follower's view (or a leader's
 * cut off from Redis) lists only what it last knew, and would make the set seem to change.
 */
export function trustedMembership(obs: Observation): ClusterViewObs | null {
  const leader = claimedLeader(obs);
  if (!obs.cluster || !leader || obs.leaderId !== leader.id) return null;
  if (obs.health.get(leader.id)?.redis === false || obs.redisReachable === false) return null;
  return obs.cluster;
}

/**
 * The membership after a trusted view: a broker the view does not list (the leader could not read
 * the registrations) keeps what was known of it, rather than seeming to leave the in-sync set.
 */
export function mergeMembership(previous: ClusterViewObs | null, view: ClusterViewObs): ClusterViewObs {
  const listed = new Set(view.brokers.map((b) => b.id));
  const kept = (previous?.brokers ?? []).filter((b) => !listed.has(b.id));
  return { ...view, brokers: [...view.brokers, ...kept] };
}

export interface GroupObs {
  group: string;
  state: string;
  generation: number;
  members: number;
  lag: number;
}

export function parseGroups(body: unknown): GroupObs[] | null {
  const list = isObj(body) ? body['groups'] : null;
  if (!Array.isArray(list)) return null;
  const groups: GroupObs[] = [];
  for (const g of list) {
    if (!isObj(g) || !str(g['group'])) continue;
    groups.push({ group: g['group'] as string, state: str(g['state']) ? (g['state'] as string) : '?', generation: num(g['generation']) ?? 0, members: num(g['members']) ?? 0, lag: num(g['lag']) ?? 0 });
  }
  return groups.sort((a, b) => a.group.localeCompare(b.group));
}

export function parseTopics(body: unknown): TopicObs[] | null {
  const list = isObj(body) ? body['topics'] : body;
  if (!Array.isArray(list)) return null;
  const topics: TopicObs[] = [];
  for (const t of list) {
    if (!isObj(t) || !str(t['name']) || !Array.isArray(t['partitions'])) continue;
    const partitions: PartitionObs[] = [];
    for (const p of t['partitions'] as unknown[]) {
      if (!isObj(p)) continue;
      const partition = num(p['partition']);
      const hwm = num(p['high_watermark']);
      if (partition === null || hwm === null) continue;
      partitions.push({ partition, highWatermark: hwm, logEndOffset: num(p['log_end_offset']) ?? hwm, logStartOffset: num(p['log_start_offset']) ?? 0 });
    }
    partitions.sort((a, b) => a.partition - b.partition);
    const config: Record<string, number> = {};
    if (isObj(t['config'])) for (const [k, v] of Object.entries(t['config'] as Json)) if (typeof v === 'number') config[k] = v;
    topics.push({ name: t['name'] as string, partitions, config });
  }
  return topics.sort((a, b) => a.name.localeCompare(b.name));
}

export function parseClusterView(body: unknown): ClusterViewObs | null {
  if (!isObj(body) || !Array.isArray(body['brokers'])) return null;
  const brokers: ClusterBrokerObs[] = [];
  for (const b of body['brokers'] as unknown[]) {
    if (!isObj(b) || !str(b['id'])) continue;
    brokers.push({
      id: b['id'] as string,
      url: str(b['url']) ?? '',
      role: role(b['role']),
      alive: b['alive'] === true,
      inSync: b['in_sync'] === true,
    });
  }
  return { epoch: num(body['epoch']) ?? 0, leader: leaderRef(body['leader']), brokers };
}

export function parseMetrics(body: unknown): Record<string, unknown> | null {
  return isObj(body) ? body : null;
}

/**
 * A counter summed over every series whose metric name contains `needle`: names may still change,
 * and a counter may be split by labels (`records_in_total{topic="t"}`). Replication counters are
 * left out: they count copies, not what producers and consumers did. So are internal topics
 * (`__consumer_offsets`): the group coordinator's own writes of committed offsets are not records
 * anybody produced (a group reading an idle topic showed ~1 record/s "in").
 */
export function sumCounter(values: Record<string, unknown>, needle: string): number | null {
  let total: number | null = null;
  for (const [key, value] of Object.entries(values)) {
    const name = key.split('{')[0] ?? key;
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    if (!name.includes(needle) || name.includes('replic')) continue;
    // The series still counts towards "has a counter" (0), so rates do not fall back to the supervisor's own counts.
    total = (total ?? 0) + (INTERNAL_TOPIC_LABEL.test(key) ? 0 : value);
  }
  return total;
}

const INTERNAL_TOPIC_LABEL = /[{,]topic="__/;
