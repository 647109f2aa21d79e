import { tryGetJson } from '../watch/http-json.js';
import { parseHealth } from '../watch/observation.js';
import type { PollTarget } from '../watch/poller.js';

/** Per request: a paused (SIGSTOP) broker accepts the connection and never answers. */
export const DEMO_REQUEST_TIMEOUT_MS = 400;
/** Between looks for a leader while none claims the lease. */
export const DEMO_LOOK_INTERVAL_MS = 50;

export interface DemoClientDeps {
  /** The brokers to ask (running, not paused), read afresh on every look. */
  targets(): PollTarget[];
  token(): string | null;
}

/**
 * The demo producer's client during a failover. It is the supervisor's instrument for timing the
 * gap, so it must not wait long on a broker that cannot answer: every request has a short
 * timeout, and the leader is found from the brokers' own claims (/health role=leader, highest
 * epoch) — not from /metadata/leader, where a follower may still name the frozen leader until its
 * lease expires in Redis. A record whose answer was lost may be committed twice (at least once),
 * which is fine for the demo topic.
 */
export class DemoClient {
  private leaderUrl: string | null = null;

  constructor(private readonly deps: DemoClientDeps) {}

  /** One try: resolves when a leader acknowledged the record, rejects otherwise. */
  async produce(body: { topic: string; key: string; payload: unknown }): Promise<void> {
    const url = this.leaderUrl ?? (await this.findLeader());
    if (!url) {
      await new Promise((r) => setTimeout(r, DEMO_LOOK_INTERVAL_MS));
      throw new Error('no broker claims the leader lease');
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = this.deps.token();
    if (token) headers['authorization'] = `Bearer ${token}`;
    try {
      const res = await fetch(`${url}/produce`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(DEMO_REQUEST_TIMEOUT_MS) });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`${url}/produce answered ${res.status}`);
    } catch (err) {
      this.leaderUrl = null;
      throw err;
    }
  }

  /** The broker that says it leads, with the highest epoch among those that answer. */
  private async findLeader(): Promise<string | null> {
    const token = this.deps.token();
    const answers = await Promise.all(
      this.deps.targets().map(async (t) => ({ url: t.url, health: parseHealth(await tryGetJson(`${t.url}/health`, DEMO_REQUEST_TIMEOUT_MS, token)) })),
    );
    let best: { url: string; epoch: number } | null = null;
    for (const a of answers) {
      if (a.health?.role === 'leader' && (!best || a.health.epoch > best.epoch)) best = { url: a.url, epoch: a.health.epoch };
    }
    this.leaderUrl = best?.url ?? null;
    return this.leaderUrl;
  }
}
