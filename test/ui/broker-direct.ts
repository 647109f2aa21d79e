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

/**
 * An independent producer: one loop per broker, each POSTing /produce with a short timeout, so a
 * paused broker holds up only its own loop. Followers refuse (421); every 2xx is a commit, and its
 * arrival time is recorded.
 */
export class ProbeProducer {
  readonly acks: number[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly brokerUrls: string[],
    private readonly token: string,
    private readonly topic: string,
  ) {}

  start(): void {
    this.running = true;
    this.loops = this.brokerUrls.map((url) => this.loop(url));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The longest time without a commit around `at`: from the last ack at or before it to the first after it. */
  gapAround(at: number, withinMs = 30_000): { from: number; to: number; ms: number } | null {
    // The longest stretch without an acknowledgement that ends after `at` and starts within
    // `withinMs` of it. Not simply the stretch around `at`: a request the leader answered just
    // before it froze can arrive after the supervisor noted the pause, and the stretch around `at`
    // is then two acknowledgements of the running leader (27 ms, seen at load 19).
    const sorted = [...this.acks].sort((a, b) => a - b);
    if (!sorted.some((t) => t <= at)) return null;
    let longest: { from: number; to: number; ms: number } | null = null;
    for (let i = 1; i < sorted.length; i++) {
      const from = sorted[i - 1]!;
      const to = sorted[i]!;
      if (to <= at || from > at + withinMs) continue;
      if (!longest || to - from > longest.ms) longest = { from, to, ms: to - from };
    }
    return longest;
  }

  private async loop(url: string): Promise<void> {
    let seq = 0;
    while (this.running) {
      try {
        const res = await fetch(`${url}/produce`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ topic: this.topic, partition: 0, payload: { probe: seq++ } }),
          signal: AbortSignal.timeout(300),
        });
        await res.body?.cancel();
        if (res.ok) this.acks.push(Date.now());
        else await new Promise((r) => setTimeout(r, 20));
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
