import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The brokers' own API, called from the test as any other program on the machine would: with
 * the cluster's credential from the web host's data folder (docs/desktop-app.md). The truth the
 * UI is checked against — never the UI's store nor the supervisor's snapshot.
 */
export function clusterToken(): string | null {
  const dir = process.env.YAK_UI_DATA_DIR;
  if (!dir) return null;
  const credential = JSON.parse(readFileSync(join(dir, 'cluster-credential.json'), 'utf8')) as { principal: string; secret: string };
  return `${credential.principal}:${credential.secret}`;
}

export async function brokerGet<T>(url: string, token: string, timeoutMs = 500): Promise<T | null> {
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    return (await res.json()) as T;
  } catch {
    return null;
  }
}

export interface Health {
  id: string;
  role: 'leader' | 'follower';
  epoch: number;
  lease_ms_left: number | null;
  redis: boolean;
}

const TICK_MS = 10;

/** One POST /produce of the probe: when it left (the test's clock) and how it was answered (null: no answer in time). */
export interface ProbeAttempt {
  url: string;
  sentAt: number;
  status: number | null;
}

/**
 * An independent producer: one loop per broker, each POSTing /produce with a short timeout, so a
 * paused broker holds up only its own loop. Followers refuse (421); every 2xx is a commit, and its
 * arrival time is recorded, with its offset. Every attempt is kept too (when it was sent, how it was
 * answered): on a loaded machine this process may be starved of CPU, and the attempts bound how late
 * it was around a moment (see gapFromLog).
 */
export class ProbeProducer {
  readonly acks: number[] = [];
  /** Each acknowledged record's offset (partition 0) and when its answer arrived. */
  readonly committed: { offset: number; at: number }[] = [];
  readonly attempts: ProbeAttempt[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  /** When a 10 ms ticker ran: a gap longer than 10 ms is time this process could not run. */
  private readonly ticks: number[] = [];
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly brokerUrls: string[],
    private readonly token: string,
    private readonly topic: string,
  ) {}

  start(): void {
    this.running = true;
    this.ticker = setInterval(() => this.ticks.push(Date.now()), TICK_MS);
    this.loops = this.brokerUrls.map((url) => this.loop(url));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    clearInterval(this.ticker);
  }

  /**
   * The stretch without a commit around `at` (a moment the old leader was certainly frozen by, e.g.
   * the supervisor's own note of the pause, taken after the signal), given the probe's records as
   * the new leader serves them. On a loaded machine this process may be starved of CPU: an answer
   * then reaches it late, and its next send leaves late. So the stretch comes with what bounds it:
   * - `from`: the old leader's last append of a probe record (the broker's timestamp, ≤ `at`).
   * - `to`: when the first answer acknowledging a probe record of the new leader (its first, or a
   *   later one: a partition commits in offset order) reached this process. The commit came before;
   *   lateBetween says by how much this process may have run late meanwhile.
   * - `refusedAt`: when the probe's last attempt that `newLeaderUrl` refused was sent — it refused
   *   after that moment, so it committed nothing before. Null when no refusal was seen there.
   */
  gapFromLog(records: { offset: number; timestamp: number; payload: unknown }[], at: number, newLeaderUrl: string): { from: number; to: number; refusedAt: number | null } | null {
    const probes = records.filter((r) => typeof r.payload === 'object' && r.payload !== null && 'probe' in r.payload);
    const before = probes.filter((r) => r.timestamp <= at);
    const after = probes.filter((r) => r.timestamp > at);
    if (before.length === 0 || after.length === 0) return null;
    const from = Math.max(...before.map((r) => r.timestamp));
    const firstAfter = Math.min(...after.map((r) => r.offset));
    const answered = this.committed.filter((c) => c.offset >= firstAfter).map((c) => c.at);
    if (answered.length === 0) return null;
    const to = Math.min(...answered);
    const refused = this.attempts.filter((a) => a.url === newLeaderUrl && a.status !== null && (a.status < 200 || a.status > 299) && a.sentAt < to).map((a) => a.sentAt);
    return { from, to, refusedAt: refused.length > 0 ? Math.max(...refused) : null };
  }

  /**
   * How long this process could not run between two moments (the tick just after `to` included):
   * the sum of a 10 ms ticker's overruns. Time it spent starved of CPU, or blocked, shows there.
   */
  lateBetween(from: number, to: number): number {
    let late = 0;
    for (let i = 1; i < this.ticks.length; i++) {
      const t = this.ticks[i]!;
      if (t > from && this.ticks[i - 1]! < to + TICK_MS) late += Math.max(0, t - this.ticks[i - 1]! - TICK_MS);
    }
    return late;
  }

  private async loop(url: string): Promise<void> {
    let seq = 0;
    while (this.running) {
      const attempt: ProbeAttempt = { url, sentAt: Date.now(), status: null };
      this.attempts.push(attempt);
      try {
        const res = await fetch(`${url}/produce`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ topic: this.topic, partition: 0, payload: { probe: seq++ } }),
          signal: AbortSignal.timeout(300),
        });
        attempt.status = res.status;
        if (res.ok) {
          const { offset } = (await res.json()) as { offset: number };
          const at = Date.now();
          this.acks.push(at);
          this.committed.push({ offset, at });
        } else {
          await res.body?.cancel();
          await new Promise((r) => setTimeout(r, 20));
        }
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

export interface ConsumedRecord {
  offset: number;
  key: string | null;
  payload: unknown;
  /** Set by the leader as it appended the record (its clock: the same host's as the test's here). */
  timestamp: number;
  headers: Record<string, string>;
}

/** Every committed record of a topic, read from the leader's own /consume, partition by partition. */
export async function consumeAll(leaderUrl: string, token: string, topic: string): Promise<ConsumedRecord[]> {
  const listed = await brokerGet<{ topics: { name: string; partitions: { partition: number }[] }[] }>(`${leaderUrl}/topics`, token, 2_000);
  const partitions = listed?.topics.find((t) => t.name === topic)?.partitions ?? [];
  const out: ConsumedRecord[] = [];
  for (const { partition } of partitions) {
    let offset = 0;
    for (;;) {
      const q = new URLSearchParams({ topic, partition: String(partition), offset: String(offset), max: '1000', wait_ms: '0' });
      const page = await brokerGet<{ records: ConsumedRecord[]; next_offset: number }>(`${leaderUrl}/consume?${q}`, token, 5_000);
      if (!page || page.records.length === 0) break;
      out.push(...page.records);
      offset = page.next_offset;
    }
  }
  return out;
}
