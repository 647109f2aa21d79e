/**
 * A byte quota as a token bucket that may go into debt, as Kafka's quotas work: a request is let
 * through whole while the bucket is not in debt, its bytes are charged after (the size of a consume
 * answer is only known then), and the principal's next requests are throttled until the refill has
 * paid the debt back. The bucket holds at most one second of its rate (the burst).
 * Time is given by the caller in milliseconds, so the bucket has no clock of its own.
 */
export class TokenBucket {
  /** Bytes that may still pass; negative while in debt. Invariant: balance <= capacity. */
  private balance: number;
  private atMs: number;

  constructor(
    private bytesPerSecond: number,
    nowMs: number,
  ) {
    assertRate(bytesPerSecond);
    this.balance = this.capacity;
    this.atMs = nowMs;
  }

  get rate(): number {
    return this.bytesPerSecond;
  }

  /** Take `bytes` from the bucket, going into debt if they are more than it holds. */
  charge(bytes: number, nowMs: number): void {
    if (!(bytes >= 0)) throw new RangeError(`bytes must be >= 0; got ${bytes}`);
    this.refill(nowMs);
    this.balance -= bytes;
  }

  /** 0 when a request may pass now, else how many milliseconds until the debt is paid back. */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    return this.balance >= 0 ? 0 : Math.ceil((-this.balance * 1000) / this.bytesPerSecond);
  }

  /** A new rate (the auth file was reloaded); the balance so far is kept, capped at the new burst. */
  setRate(bytesPerSecond: number, nowMs: number): void {
    assertRate(bytesPerSecond);
    this.refill(nowMs);
    this.bytesPerSecond = bytesPerSecond;
    this.balance = Math.min(this.balance, this.capacity);
  }

  private get capacity(): number {
    return this.bytesPerSecond;
  }

  private refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.atMs);
    this.atMs = Math.max(this.atMs, nowMs);
    this.balance = Math.min(this.capacity, this.balance + (elapsedMs * this.bytesPerSecond) / 1000);
  }
}

function assertRate(bytesPerSecond: number): void {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) throw new RangeError(`bytes per second must be > 0; got ${bytesPerSecond}`);
}
