import type { Rng } from '../../testkit/rng.js';
import type { Scheduler } from './scheduler.js';

export interface NetworkOptions {
  minDelayMs: number;
  maxDelayMs: number;
  /** Chance that one message is lost (a connection reset: the request, or only its answer). */
  dropRate: number;
  /** Chance that one message is held up to slowMaxMs longer (retransmits): requests overtake each other. */
  slowRate: number;
  slowMaxMs: number;
  /** Whether broker-to-broker messages may arrive out of order. Redis links are one TCP connection: always in order. */
  reorder: boolean;
}

/**
 * The fake network between brokers, Redis and the client: delays, losses, reordering, and cuts
 * (partitions) that drop whatever crosses them, in flight or not.
 */
export class Network {
  private readonly cuts = new Map<string, number>();
  /** Brokers whose Redis answers are lost at this rate (a connection that keeps resetting). */
  private readonly flaky = new Map<string, number>();
  /** Brokers whose messages to other brokers (a follower's answers) are lost at this rate: a one-way fault. */
  private readonly lossy = new Map<string, number>();
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: Rng,
    private o: NetworkOptions,
  ) {}

  /** No more losses or stalls (the settle phase): what is in flight still arrives. */
  calm(): void {
    this.o = { ...this.o, dropRate: 0, slowRate: 0 };
  }

  cut(a: string, b: string): void {
    const k = key(a, b);
    this.cuts.set(k, (this.cuts.get(k) ?? 0) + 1);
  }

  heal(a: string, b: string): void {
    const k = key(a, b);
    const n = (this.cuts.get(k) ?? 0) - 1;
    if (n > 0) this.cuts.set(k, n);
    else this.cuts.delete(k);
  }

  healAll(): void {
    this.cuts.clear();
    this.flaky.clear();
    this.lossy.clear();
  }

  /** Lose this share of Redis's answers to `broker` (the commands themselves are applied), or stop (null). */
  flakyRedis(broker: string, lossRate: number | null): void {
    if (lossRate === null) this.flaky.delete(broker);
    else this.flaky.set(broker, lossRate);
  }

  /** Lose this share of what `broker` sends other brokers (the requests it answers are applied), or stop (null). */
  lossyAnswers(broker: string, lossRate: number | null): void {
    if (lossRate === null) this.lossy.delete(broker);
    else this.lossy.set(broker, lossRate);
  }

  isCut(a: string, b: string): boolean {
    return this.cuts.has(key(a, b));
  }

  cutsNow(): string[] {
    return [...this.cuts.keys()];
  }

  /**
   * Deliver `fn` at `to` after a delay, unless the message is lost or the link is cut at either end
   * of its flight. With `conn` the message travels on one TCP connection (a replication stream):
   * in order with the others on it whatever `reorder` says (a slow one holds up those behind it),
   * and a loss is a reset of that connection, reported by `conn.lost` (nothing later on it arrives).
   */
  send(from: string, to: string, fn: () => void, owner: string | null, inc: number, conn?: { order: string; lost: () => void }): void {
    if (this.isCut(from, to) || this.rng.chance(this.o.dropRate)) return conn?.lost();
    // No draw unless flaky or lossy: other runs stay as dealt.
    const loss = from === 'redis' ? this.flaky.get(to) : to !== 'redis' && to !== 'client' ? this.lossy.get(from) : undefined;
    if (loss !== undefined && this.rng.chance(loss)) return conn?.lost();
    let delay = this.rng.float(this.o.minDelayMs, this.o.maxDelayMs);
    if (this.rng.chance(this.o.slowRate)) delay += this.rng.float(0, this.o.slowMaxMs);
    let at = this.sched.now + delay;
    if (conn || !this.o.reorder || from === 'redis' || to === 'redis') {
      const k = conn ? conn.order : `${from}>${to}`;
      at = Math.max(at, (this.lastAt.get(k) ?? 0) + 1e-3);
      this.lastAt.set(k, at);
    }
    this.sched.at(at, () => (this.isCut(from, to) ? conn?.lost() : fn()), owner, inc);
  }
}

const key = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
