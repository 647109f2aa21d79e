import { tryGetJson } from './http-json.js';
import {
  parseClusterView,
  parseHealth,
  parseGroups,
  parseMetrics,
  parseTopics,
  type HealthObs,
  type Observation,
  type TopicObs,
} from './observation.js';

export interface PollTarget {
  id: string;
  url: string;
}

export const POLL_TIMEOUT_MS = 400;

/**
 * One look at the cluster through the brokers' public HTTP API, in two rounds: /health of every
 * broker, then /metadata/cluster from the leader (highest epoch claiming it, else any broker) and
 * /topics and /metrics from every broker that answered. Each request has its own short timeout.
 */
export async function observeCluster(targets: readonly PollTarget[], timeoutMs = POLL_TIMEOUT_MS, token: string | null = null): Promise<Observation> {
  const health = new Map<string, HealthObs>();
  await Promise.all(
    targets.map(async (t) => {
      const askedAt = Date.now();
      const h = parseHealth(await tryGetJson(`${t.url}/health`, timeoutMs, token));
      if (h) health.set(t.id, { ...h, askedAt });
    }),
  );
  const reachable = targets.filter((t) => health.has(t.id));
  const leader = pickLeader(reachable, health);
  const source = leader ?? reachable[0] ?? null;

  const topics = new Map<string, TopicObs[]>();
  const metrics = new Map<string, Record<string, unknown>>();
  const [clusterBody, groupsBody] = await Promise.all([
    source ? tryGetJson(`${source.url}/metadata/cluster`, timeoutMs, token) : Promise.resolve(null),
    // Consumer groups live on the leader's coordinator only.
    leader ? tryGetJson(`${leader.url}/groups`, timeoutMs, token) : Promise.resolve(null),
    ...reachable.map(async (t) => {
      const parsed = parseTopics(await tryGetJson(`${t.url}/topics`, timeoutMs, token));
      if (parsed) topics.set(t.id, parsed);
    }),
    ...reachable.map(async (t) => {
      const parsed = parseMetrics(await tryGetJson(`${t.url}/metrics`, timeoutMs, token));
      if (parsed) metrics.set(t.id, parsed);
    }),
  ]);
  const groups = parseGroups(groupsBody);
  return {
    at: Date.now(),
    health,
    topics,
    ...(groups ? { groups } : {}),
    cluster: parseClusterView(clusterBody),
    metrics,
    leaderId: leader?.id ?? null,
  };
}

function pickLeader(reachable: readonly PollTarget[], health: ReadonlyMap<string, HealthObs>): PollTarget | null {
  let best: PollTarget | null = null;
  let bestEpoch = -1;
  for (const t of reachable) {
    const h = health.get(t.id);
    if (h?.role === 'leader' && h.epoch > bestEpoch) {
      best = t;
      bestEpoch = h.epoch;
    }
  }
  return best;
}

/**
 * Runs `tick` again `intervalMs` after the previous one finished — never on a fixed clock — so a
 * slow round can delay the next but requests never pile up.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private inFlight: Promise<void> | null = null;
  private wakeSoon = false;

  constructor(
    private readonly tick: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Runs a round as soon as the current one (if any) is over, e.g. right after a kill. */
  poke(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.wakeSoon = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delay);
  }

  private async run(): Promise<void> {
    this.timer = null;
    if (!this.running || this.inFlight) return;
    this.inFlight = this.tick().catch(() => undefined);
    await this.inFlight;
    this.inFlight = null;
    if (!this.running) return;
    const soon = this.wakeSoon;
    this.wakeSoon = false;
    this.schedule(soon ? 0 : this.intervalMs);
  }
}
