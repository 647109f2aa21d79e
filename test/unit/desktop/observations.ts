import type { HealthObs, Observation, TopicObs } from '../../../src/main/supervisor/observation.js';

/** A hand-made observation: who answered, who leads with which epoch, who is in sync, whose logs hold what. */
export function obs(at: number, spec: {
  leader?: string | null;
  epoch?: number;
  up?: string[];
  isr?: string[];
  logs?: Record<string, { hwm: number; leo: number }[]>;
  noView?: boolean;
}): Observation {
  const up = spec.up ?? ['broker-1', 'broker-2', 'broker-3'];
  const leader = spec.leader ?? null;
  const epoch = spec.epoch ?? 1;
  const health = new Map<string, HealthObs>(
    up.map((id) => [id, { role: id === leader ? 'leader' : 'follower', epoch, leaseMsLeft: id === leader ? 1500 : null }]),
  );
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
          epoch,
          leader: leader ? { id: leader, url: `http://127.0.0.1/${leader}` } : null,
          brokers: ['broker-1', 'broker-2', 'broker-3'].map((id) => ({ id, url: '', role: id === leader ? 'leader' : 'follower', alive: up.includes(id), inSync: isr.includes(id) })),
        },
    metrics: new Map(),
    leaderId: leader,
  };
}
