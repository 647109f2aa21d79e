/**
 * The frame keys a follower has fetched, by epoch. Only the newest few epochs are kept (a frame of
 * an older epoch is refused anyway); a miss is remembered briefly, so a flood of forged frames
 * naming epochs that do not exist costs Redis at most one lookup per epoch per `missTtlMs`, and
 * concurrent lookups of one epoch share a single round trip.
 */
export class FrameKeyCache {
  private readonly keys = new Map<number, Buffer>();
  private readonly misses = new Map<number, number>();
  private readonly pending = new Map<number, Promise<Buffer | null>>();

  constructor(
    private readonly fetch: (epoch: number) => Promise<Buffer | null>,
    private readonly now: () => number,
    private readonly missTtlMs = 250,
    private readonly keep = 4,
  ) {}

  /** The key of `epoch`, or null if Redis has none (or cannot be asked now). */
  async get(epoch: number): Promise<Buffer | null> {
    const hit = this.keys.get(epoch);
    if (hit) return hit;
    const missAt = this.misses.get(epoch);
    if (missAt !== undefined && this.now() - missAt < this.missTtlMs) return null;
    let p = this.pending.get(epoch);
    if (!p) {
      p = this.load(epoch).finally(() => this.pending.delete(epoch));
      this.pending.set(epoch, p);
    }
    return p;
  }

  private async load(epoch: number): Promise<Buffer | null> {
    let key: Buffer | null;
    try {
      key = await this.fetch(epoch);
    } catch {
      key = null; // Redis unreachable: refuse now, ask again after the miss expires
    }
    if (!key) {
      if (this.misses.size > 1024) this.misses.clear();
      this.misses.set(epoch, this.now());
      return null;
    }
    this.misses.delete(epoch);
    this.keys.set(epoch, key);
    if (this.keys.size > this.keep) {
      const oldest = Math.min(...this.keys.keys());
      this.keys.delete(oldest);
    }
    return key;
  }
}
