import type {
  BrokerRunSettings,
  BrokerSnapshot,
  ClusterSettings,
  ClusterSnapshot,
  PartitionSnapshot,
  ProcessInfo,
  GroupLagPoint,
  GroupSnapshot,
  RatePoint,
  RedisInfo,
  ReplicaPartitionState,
  TopicSnapshot,
  TopicConfigValues,
} from '../../../shared/cluster-api.js';
import type { LastLease } from './cluster-monitor.js';
import { claimedLeader, trustedMembership, type ClusterViewObs, type Observation, type TopicObs } from './observation.js';

export interface BrokerEntry {
  id: string;
  url: string;
  port: number;
  kafkaPort: number;
  process: ProcessInfo;
  /** The settings of its process's latest start (optional for tests). */
  runsWith?: BrokerRunSettings | null;
}

export interface SnapshotInput {
  at: number;
  running: boolean;
  settings: ClusterSettings;
  redis: RedisInfo;
  brokers: readonly BrokerEntry[];
  /** The latest observation, or null before the first one (or after a stop). */
  obs: Observation | null;
  /** Each broker's last known /topics (kept for brokers that stopped answering). */
  replicaTopics: ReadonlyMap<string, TopicObs[]>;
  /** When each broker last answered /topics (ClusterMonitor.replicaSeenAt); optional for tests. */
  replicaSeenAt?: ReadonlyMap<string, number>;
  /** The last in-sync set and registrations a leader reaching Redis reported (see trustedMembership). */
  lastMembership: ClusterViewObs | null;
  /** The highest epoch any broker reported, for rounds in which none answered. */
  lastEpoch: number;
  /** The last claiming leader's last reported lease (ClusterMonitor.lastLease); optional for tests. */
  lastLease?: LastLease | null;
  rates: RatePoint[];
  /** The consumer groups the leader last listed (ClusterMonitor.lastGroups); optional for tests. */
  groups?: readonly GroupSnapshot[] | null;
  groupLag?: readonly GroupLagPoint[];
}

/** The one picture the renderer draws. Pure: everything it needs is in the input. */
export function buildSnapshot(input: SnapshotInput): ClusterSnapshot {
  const { obs } = input;
  // The leader is the broker that says so itself; when none does, there is none — whatever a
  // follower last saw in Redis (issue 11: 'leader broker-2' for 25 s while every card said follower).
  // Only answers from processes that run now count, as for the cards below: right after a kill the
  // latest poll still holds the killed leader's answer, and the sidebar named it leader while its
  // own card already said dead, no role.
  const claim = obs ? claimedLeader({ ...obs, health: answersOfRunning(obs, input.brokers) }) : null;
  const claimUrl = claim ? input.brokers.find((b) => b.id === claim.id)?.url ?? '' : '';
  const leader = claim ? { id: claim.id, url: claimUrl } : null;
  const epoch = claim?.epoch ?? Math.max(input.lastEpoch, ...(obs ? [...obs.health.values()].map((h) => h.epoch) : []));
  // Kept up to date by the monitor from trusted views only (observation.ts, trustedMembership).
  const view = input.lastMembership;
  // Current only when a leader that reaches Redis told us this round; else the last it told.
  const membershipStale = !(obs && trustedMembership(obs));
  const brokers: BrokerSnapshot[] = input.brokers.map((b) => {
    // An answer from before a kill, pause or restart must not show: only a process that answered
    // since its latest start is 'running' (the supervisor marks it so from a fresh poll).
    const health = b.process.state === 'running' ? (obs?.health.get(b.id) ?? null) : null;
    const member = view?.brokers.find((m) => m.id === b.id) ?? null;
    return {
      id: b.id,
      url: b.url,
      port: b.port,
      kafkaPort: b.kafkaPort,
      process: b.process,
      reachable: health !== null,
      role: health?.role ?? null,
      epoch: health?.epoch ?? null,
      leaseMsLeft: health?.role === 'leader' ? health.leaseMsLeft : null,
      leaseMeasuredAt: health?.role === 'leader' && health.leaseMsLeft !== null ? (health.askedAt ?? input.at) : null,
      lastLease: lastLeaseOf(b, health === null, claim === null, input.lastLease ?? null),
      inSync: member?.inSync ?? false,
      inSyncKnown: member !== null,
      alive: member?.alive ?? false,
      membershipStale,
      runsWith: b.runsWith ? { ...b.runsWith } : null,
    };
  });
  return {
    at: input.at,
    running: input.running,
    writesBlocked: input.running && obs !== null && claim === null ? blockedReason(input.redis, brokers.find((b) => b.lastLease) ?? null) : null,
    settings: { ...input.settings },
    redis: input.redis,
    leader,
    epoch,
    brokers,
    // Only the brokers that answered /topics this round are current; the others' numbers are marked stale.
    topics: buildTopics(input.replicaTopics, leader?.id ?? null, input.replicaSeenAt ? { fresh: new Set(obs?.topics.keys() ?? []), seenAt: input.replicaSeenAt } : undefined),
    rates: input.rates,
    ...(input.groups ? { groups: input.groups.map((g) => ({ ...g })), groupsStale: !obs?.groups } : {}),
    ...(input.groupLag && input.groupLag.length > 0 ? { groupLag: [...input.groupLag] } : {}),
  };
}

/** The /health answers of the brokers whose process runs now (a killed or paused one's last answer is history). */
function answersOfRunning(obs: Observation, brokers: readonly BrokerEntry[]): Observation['health'] {
  const running = new Set(brokers.filter((b) => b.process.state === 'running').map((b) => b.id));
  return new Map([...obs.health].filter(([id]) => running.has(id)));
}

/**
 * Why nothing can commit now. A leader killed or paused a moment ago still holds its lease in Redis
 * until it runs out (the followers' /metadata/leader still name it, and its card counts the lease
 * down): "no broker holds the leader lease" was said then, which is what a learner must not be told
 * while the point of the lesson is that the lease has to run out first.
 */
function blockedReason(redis: RedisInfo, silentLeader: BrokerSnapshot | null): string {
  if (!redis.reachable) {
    return 'Redis is unreachable: no broker can hold the leader lease, so every write is refused until Redis is back.';
  }
  if (silentLeader?.lastLease) {
    const why = SILENT_BECAUSE[silentLeader.process.state] ?? 'does not answer';
    return `${silentLeader.id} held the leader lease (epoch ${silentLeader.lastLease.epoch}) when it last answered and ${why}: writes are refused until that lease runs out and another broker is elected.`;
  }
  return 'No broker holds the leader lease: writes are refused until a leader is elected.';
}

const SILENT_BECAUSE: Partial<Record<ProcessInfo['state'], string>> = {
  exited: 'was killed',
  crashed: 'crashed',
  paused: 'is paused',
  running: 'does not answer',
};

/** Which brokers answered /topics in the latest poll, and when each last did. */
export interface Freshness {
  fresh: ReadonlySet<string>;
  seenAt: ReadonlyMap<string, number>;
}

/**
 * Every topic's partitions with each replica's last reported numbers. With `freshness`, a replica
 * whose broker did not answer the latest poll is marked stale (issue: a paused follower's log end
 * offset was shown, unmarked, as if it were read a moment ago).
 */
export function buildTopics(replicaTopics: ReadonlyMap<string, TopicObs[]>, leaderId: string | null, freshness?: Freshness): TopicSnapshot[] {
  const byTopic = new Map<string, Map<number, PartitionSnapshot>>();
  // The leader's config wins (it decides); else the first broker's that reports one.
  const configs = new Map<string, TopicConfigValues>();
  for (const [brokerId, topics] of [...replicaTopics].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    for (const t of topics) {
      if (t.config && Object.keys(t.config).length > 0 && (brokerId === leaderId || !configs.has(t.name))) configs.set(t.name, t.config as TopicConfigValues);
      const partitions = byTopic.get(t.name) ?? new Map<number, PartitionSnapshot>();
      byTopic.set(t.name, partitions);
      for (const p of t.partitions) {
        const entry = partitions.get(p.partition) ?? { partition: p.partition, highWatermark: 0, replicas: [] };
        partitions.set(p.partition, entry);
        const replica: ReplicaPartitionState = { brokerId, logEndOffset: p.logEndOffset, highWatermark: p.highWatermark, logStartOffset: p.logStartOffset ?? 0 };
        if (freshness) {
          replica.stale = !freshness.fresh.has(brokerId);
          const seenAt = freshness.seenAt.get(brokerId);
          if (seenAt !== undefined) replica.seenAt = seenAt;
        }
        entry.replicas.push(replica);
      }
    }
  }
  const out: TopicSnapshot[] = [];
  for (const [name, partitions] of [...byTopic].sort(([a], [b]) => a.localeCompare(b))) {
    const list = [...partitions.values()].sort((a, b) => a.partition - b.partition);
    for (const p of list) {
      // The leader's high-water mark is the committed boundary; without it, the best any replica knows.
      // Without a leader (or its answer this round), the best any replica knows — current ones first.
      const fromLeader = p.replicas.find((r) => r.brokerId === leaderId && !r.stale);
      const current = p.replicas.filter((r) => !r.stale);
      const pool = current.length > 0 ? current : p.replicas;
      p.highWatermark = fromLeader ? fromLeader.highWatermark : Math.max(0, ...pool.map((r) => r.highWatermark));
      p.logStartOffset = fromLeader ? (fromLeader.logStartOffset ?? 0) : Math.max(0, ...pool.map((r) => r.logStartOffset ?? 0));
      if (freshness) p.stale = current.length === 0;
    }
    const config = configs.get(name);
    out.push(config ? { name, partitions: list, config } : { name, partitions: list });
  }
  return out;
}

/** A silent broker's lease as it last reported it, while no other broker leads (see BrokerSnapshot.lastLease). */
function lastLeaseOf(b: BrokerEntry, silent: boolean, noClaim: boolean, last: LastLease | null): BrokerSnapshot['lastLease'] {
  if (!last || last.brokerId !== b.id || !silent || !noClaim) return null;
  // A broker stopped with SIGTERM releases its lease at once: nothing is left to count down.
  if (b.process.state === 'stopping' || b.process.state === 'stopped') return null;
  return { msLeft: last.msLeft, at: last.at, epoch: last.epoch };
}
