import { labelKey, type LabelValues } from './labels.js';
import { Metric, type SummarySnapshot } from './metric.js';

export type { SummarySnapshot };

/** The last `size` observations in a ring, plus all-time count and sum. */
export class Reservoir {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  count = 0;
  sum = 0;

  constructor(size: number) {
    this.ring = new Float64Array(size);
  }

  observe(v: number): void {
    // Metrics must never take the broker down: a NaN/Infinity observation is a bug upstream, not a reason to throw here.
    if (!Number.isFinite(v)) return;
    this.ring[this.next] = v;
    this.next = (this.next + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled++;
    this.count++;
    this.sum += v;
  }

  snapshot(): SummarySnapshot {
    if (this.filled === 0) return { count: this.count, sum: this.sum, p50: null, p99: null, max: null };
    // Sorting a copy at scrape time keeps observe() O(1); 1024 doubles sort in microseconds.
    const sorted = this.ring.slice(0, this.filled).sort();
    return {
      count: this.count,
      sum: this.sum,
      p50: nearestRank(sorted, 0.5),
      p99: nearestRank(sorted, 0.99),
      max: sorted[sorted.length - 1]!,
    };
  }
}

/** Nearest-rank quantile: the smallest value with at least q of the observations at or below it. */
function nearestRank(sorted: Float64Array, q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

export interface SummaryChild {
  observe(v: number): void;
  snapshot(): SummarySnapshot;
}

/** Latencies, sizes: observe(v) or observe({ topic: 't' }, v). Reports count, sum, p50, p99, max. */
export class Summary<L extends string = never> extends Metric<L, Reservoir> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    readonly reservoirSize: number,
  ) {
    super('summary', name, help, labelNames);
    if (!Number.isSafeInteger(reservoirSize) || reservoirSize < 1) {
      throw new RangeError(`summary ${name}: reservoir size must be a positive integer`);
    }
    if (labelNames.length === 0) this.series.set('', this.fresh());
  }

  protected fresh(): Reservoir {
    return new Reservoir(this.reservoirSize);
  }

  protected read(r: Reservoir): SummarySnapshot {
    return r.snapshot();
  }

  observe(v: number): void;
  observe(labels: LabelValues<L>, v: number): void;
  observe(a: LabelValues<L> | number, b?: number): void {
    if (typeof a === 'number') this.cell(undefined).observe(a);
    else this.cell(a).observe(b ?? NaN);
  }

  snapshot(labels?: LabelValues<L>): SummarySnapshot {
    const r = this.series.get(labelKey(this.name, this.labelNames, labels));
    return r ? r.snapshot() : { count: 0, sum: 0, p50: null, p99: null, max: null };
  }

  labels(labels: LabelValues<L>): SummaryChild {
    const r = this.cell(labels);
    return { observe: (v) => r.observe(v), snapshot: () => r.snapshot() };
  }
}
