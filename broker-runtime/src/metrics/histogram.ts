import { labelKey, type LabelValues } from './labels.js';
import { Metric, type HistogramSnapshot } from './metric.js';

export type { HistogramSnapshot };

/**
 * Bucket bounds for latencies in seconds: 0.5 ms (a loopback commit) to 30 s (the default produce
 * timeout). Fixed, so the buckets of every broker line up and Prometheus can add them up.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** One series: a count per bucket (not cumulative: observe() touches one cell), plus count and sum. */
export class Buckets {
  /** counts[i] counts observations in (bounds[i-1], bounds[i]]; the last cell is (last bound, +Inf). */
  readonly counts: Float64Array;
  count = 0;
  sum = 0;

  constructor(readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    // Metrics must never take the broker down: a NaN observation is a bug upstream, not a reason to throw.
    if (Number.isNaN(v)) return;
    const b = this.bounds;
    // A linear scan: ~15 bounds, and latencies mostly land in the first few.
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += v;
  }

  snapshot(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      buckets.push([this.bounds[i]!, cumulative]);
    }
    buckets.push([Infinity, this.count]);
    return {
      count: this.count,
      sum: this.sum,
      p50: estimateQuantile(buckets, 0.5),
      p99: estimateQuantile(buckets, 0.99),
      buckets,
    };
  }
}

/**
 * PromQL's histogram_quantile on one series: linear interpolation inside the bucket that holds
 * the rank; the highest finite bound when it falls in +Inf. Null while nothing has been observed.
 */
export function estimateQuantile(cumulative: readonly (readonly [number, number])[], q: number): number | null {
  const total = cumulative[cumulative.length - 1]?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let i = 0; i < cumulative.length; i++) {
    const [bound, count] = cumulative[i]!;
    if (count >= rank) {
      if (bound === Infinity) return i > 0 ? cumulative[i - 1]![0] : null;
      if (i === 0 && bound <= 0) return bound;
      return lowerBound + (bound - lowerBound) * ((rank - lowerCount) / (count - lowerCount));
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return null;
}

export interface HistogramChild {
  observe(v: number): void;
  snapshot(): HistogramSnapshot;
}

/**
 * Latencies, sizes: observe(v) or observe({ kind: 'major' }, v). Unlike a summary, buckets from
 * many brokers add up: `histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))` is the
 * cluster's p99.
 */
export class Histogram<L extends string = never> extends Metric<L, Buckets> {
  private readonly boundArray: Float64Array;

  constructor(name: string, help: string, labelNames: readonly L[], readonly bounds: readonly number[]) {
    super('histogram', name, help, labelNames);
    if (bounds.length === 0 || bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))) {
      throw new RangeError(`histogram ${name}: bucket bounds must be finite and strictly increasing`);
    }
    this.boundArray = Float64Array.from(bounds);
    if (labelNames.length === 0) this.series.set('', this.fresh());
  }

  protected fresh(): Buckets {
    return new Buckets(this.boundArray);
  }

  protected read(b: Buckets): HistogramSnapshot {
    return b.snapshot();
  }

  observe(v: number): void;
  observe(labels: LabelValues<L>, v: number): void;
  observe(a: LabelValues<L> | number, b?: number): void {
    if (typeof a === 'number') this.cell(undefined).observe(a);
    else this.cell(a).observe(b ?? NaN);
  }

  snapshot(labels?: LabelValues<L>): HistogramSnapshot {
    const s = this.series.get(labelKey(this.name, this.labelNames, labels));
    return (s ?? this.fresh()).snapshot();
  }

  /** A handle bound to one series: no key building on the hot path. */
  labels(labels: LabelValues<L>): HistogramChild {
    const s = this.cell(labels);
    return { observe: (v) => s.observe(v), snapshot: () => s.snapshot() };
  }
}
