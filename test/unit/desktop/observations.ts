import type { HealthObs, Observation, TopicObs } from '../../../src/main/supervisor/watch/observation.js';

/** A hand-made observation: who answered, who leads with which epoch, who is in sync, whose logs hold what. */
export function obs(at: number, spec: {
  leader?: string | null;
  epoch?: number;
  up?: string[];
  isr?: string[];
  logs?: Record<string, { hwm: number; leo: number }[]>;
  noView?: boolean;
  /** What /metadata/cluster said, when it differs from the brokers' own claims (a follower's stale view). */
  view?: { leader: string | null; epoch: number };
  /** /health answers that differ from `leader`/`epoch`: each broker's own role and epoch. */
  claims?: Record<string, { role: 'leader' | 'follower'; epoch: number }>;
  /** Brokers whose /health says they cannot reach Redis. */
  redisDown?: string[];
  /** Brokers /metadata/cluster lists (default all three); a broker that cannot read Redis lists only itself. */
  listed?: string[];
}): Observation {
  const up = spec.up ?? ['broker-1', 'broker-2', 'broker-3'];
  const leader = spec.leader ?? null;
  const epoch = spec.epoch ?? 1;
  const health = new Map<string, HealthObs>(
    up.map((id) => {
      const claim = spec.claims?.[id] ?? { role: id === leader ? ('leader' as const) : ('follower' as const), epoch };
      const redis = !(spec.redisDown ?? []).includes(id);
      return [id, { role: claim.role, epoch: claim.epoch, leaseMsLeft: claim.role === 'leader' ? 1500 : null, redis }];
    }),
  );
  let claimed: string | null = null;
  for (const [id, h] of health) if (h.role === 'leader' && (claimed === null || h.epoch > health.get(claimed)!.epoch)) claimed = id;
  const viewLeader = spec.view ? spec.view.leader : leader;
  const topics = new Map<string, TopicObs[]>();
  for (const [id, parts] of Object.entries(spec.logs ?? {})) {
    topics.set(id, [{ name: 't', partitions: parts.map((p, i) => ({ partition: i, highWatermark: p.hwm, logEndOffset: p.leo })) }]);
  }
  const isr = spec.isr ?? up;
  return {
    at,
    health,
    topics,
    cluster: spec.noView
      ? null
      : {
          epoch: spec.view?.epoch ?? epoch,
          leader: viewLeader ? { id: viewLeader, url: `http://127.0.0.1/${viewLeader}` } : null,
          brokers: (spec.listed ?? ['broker-1', 'broker-2', 'broker-3']).map((id) => ({ id, url: '', role: id === viewLeader ? 'leader' : 'follower', alive: up.includes(id), inSync: isr.includes(id) })),
        },
    metrics: new Map(),
    // As the poller does: the view is asked of the broker claiming the lead (else any).
    leaderId: claimed,
  };
}
