/**
 * Records per second over a sliding window: the "live rate" a user sees while a CSV streams out.
 * Plain class (no Vue) so stores decide when to publish the number.
 */
export class RateMeter {
  private readonly samples: { at: number; count: number }[] = [];

  constructor(private readonly windowMs = 3_000) {}

  add(count: number, at = Date.now()): void {
    this.samples.push({ at, count });
    this.trim(at);
  }

  perSecond(at = Date.now()): number {
    this.trim(at);
    const total = this.samples.reduce((sum, s) => sum + s.count, 0);
    return (total * 1_000) / this.windowMs;
  }

  private trim(at: number): void {
    while (this.samples.length && this.samples[0]!.at < at - this.windowMs) this.samples.shift();
  }
}
