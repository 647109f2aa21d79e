import { Redis } from 'ioredis';
import { parseLeaseHolder } from '../../broker-runtime/src/election/lease-store.js';

/** The desktop cluster's lease key (broker-runtime/src/election/keys.ts, cluster id yak-desktop). */
export const DESKTOP_LEASE_KEY = '{yak-desktop}:leader';

/** One look at the lease key: its holder and remaining time, and when the look was sent and answered (this process's clock). */
export interface LeaseLook {
  sentAt: number;
  answeredAt: number;
  holder: { id: string; epoch: number } | null;
  /** PTTL: ms left, -2 when the key is gone. */
  pttlMs: number;
}

/**
 * Looks at the lease key in Redis directly, every few ms, as any program on the machine could: the
 * independent measure of when the lease ran out. Redis decides the expiry (a follower's acquire
 * sees the key gone only from then on), so its own PTTL is the truth the UI is checked against.
 */
export class LeaseKeyWatch {
  readonly looks: LeaseLook[] = [];
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly redis: Redis;

  constructor(redisUrl: string) {
    this.redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1 });
  }

  async start(): Promise<void> {
    await this.redis.connect();
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.redis.disconnect();
  }

  /**
   * When the lease of `holder` ran out, bracketed by the looks taken after `after` (a moment the
   * holder was dead or frozen by: nothing renewed it since). Each look that saw it with PTTL p
   * says it ends in [sentAt + p, answeredAt + p] (Redis answered in between); the first look that
   * found it gone says it ended by answeredAt, the last that found it held that it had not at
   * sentAt. The bracket is the intersection of them all. Null when no look saw the lease after `after`.
   */
  expiryOf(holder: { id: string; epoch: number }, after: number): { lo: number; hi: number; looks: number } | null {
    const same = (l: LeaseLook) => l.holder?.id === holder.id && l.holder.epoch === holder.epoch;
    const later = this.looks.filter((l) => l.sentAt >= after);
    const held = later.filter((l) => same(l) && l.pttlMs > 0);
    if (held.length === 0) return null;
    const lo = Math.max(...held.map((l) => l.sentAt + l.pttlMs));
    let hi = Math.min(...held.map((l) => l.answeredAt + l.pttlMs));
    const gone = later.find((l) => l.sentAt > held.at(-1)!.sentAt && !same(l));
    if (gone) hi = Math.min(hi, gone.answeredAt);
    return { lo, hi, looks: held.length };
  }

  private async run(): Promise<void> {
    while (this.running) {
      const sentAt = Date.now();
      try {
        const replies = await this.redis.multi().get(DESKTOP_LEASE_KEY).pttl(DESKTOP_LEASE_KEY).exec();
        const answeredAt = Date.now();
        const value = replies?.[0]?.[1];
        const pttl = replies?.[1]?.[1];
        this.looks.push({ sentAt, answeredAt, holder: typeof value === 'string' ? parseLeaseHolder(value) : null, pttlMs: typeof pttl === 'number' ? pttl : -2 });
      } catch {
        // Redis busy or restarting: the next look tries again; a missing look only widens the bracket.
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
