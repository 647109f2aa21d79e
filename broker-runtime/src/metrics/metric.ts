import { labelKey, type LabelValues } from './labels.js';

export type MetricType = 'counter' | 'gauge' | 'summary' | 'histogram';

/** What a summary reports. Quantiles and max cover the reservoir; count and sum cover all time. */
export interface SummarySnapshot {
  count: number;
  sum: number;
  /** null while nothing has been observed. */
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * What a histogram reports: all-time count and sum, cumulative buckets as [upper bound, count]
 * pairs ending with +Inf, and p50/p99 estimated from them as PromQL's histogram_quantile does.
 */
export interface HistogramSnapshot {
  count: number;
  sum: number;
  /** null while nothing has been observed. */
  p50: number | null;
  p99: number | null;
  buckets: [le: number, count: number][];
}

/** A series' current reading: a number for counters and gauges, a snapshot for summaries and histograms. */
export type Reading = number | SummarySnapshot | HistogramSnapshot;

const collator = new Intl.Collator('en', { numeric: true });

/** A mutable cell; bound children hold it directly so their updates skip the Map lookup. */
interface Cell {
  value: number;
}

abstract class Metric<L extends string, S> {
  /** Series by label key (see labels.ts); '' is the one series of a metric without labels. */
  readonly series = new Map<string, S>();

  constructor(
    readonly type: MetricType,
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {}

  protected abstract fresh(): S;
  protected abstract read(s: S): Reading;

  /** Every series' reading, in a stable order: by label key, numbers within it numerically. */
  readings(): [key: string, reading: Reading][] {
    const out: [string, Reading][] = [];
    for (const [key, s] of this.series) out.push([key, this.read(s)]);
    return out.sort((a, b) => collator.compare(a[0], b[0]));
  }

  protected cell(labels: LabelValues<L> | undefined): S {
    const key = labelKey(this.name, this.labelNames, labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = this.fresh();
      this.series.set(key, s);
    }
    return s;
  }

  /** Drops one series (a deleted topic, a removed broker). A child bound to it keeps a detached cell. */
  remove(labels: LabelValues<L>): void {
    this.series.delete(labelKey(this.name, this.labelNames, labels));
  }
}

export interface CounterChild {
  inc(n?: number): void;
  readonly value: number;
}

/** Only goes up. `inc(5)` or `inc({ topic: 't' }, 5)`. */
export class Counter<L extends string = never> extends Metric<L, Cell> {
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super('counter', name, help, labelNames);
    if (labelNames.length === 0) this.series.set('', this.fresh());
  }

  protected fresh(): Cell {
    return { value: 0 };
  }

  protected read(c: Cell): number {
    return c.value;
  }

  inc(n?: number): void;
  inc(labels: LabelValues<L>, n?: number): void;
  inc(a?: LabelValues<L> | number, b?: number): void {
    // (n) or (labels, n): the overloads are told apart by type, without allocating.
    const n = typeof a === 'number' ? a : (b ?? 1);
    if (!(n >= 0)) throw new RangeError(`counter ${this.name} can only go up (inc by ${n})`);
    this.cell(typeof a === 'number' ? undefined : a).value += n;
  }

  value(labels?: LabelValues<L>): number {
    return this.series.get(labelKey(this.name, this.labelNames, labels))?.value ?? 0;
  }

  /** A handle bound to one series: no key building on the hot path. */
  labels(labels: LabelValues<L>): CounterChild {
    const c = this.cell(labels);
    const name = this.name;
    return {
      inc(n = 1) {
        if (!(n >= 0)) throw new RangeError(`counter ${name} can only go up (inc by ${n})`);
        c.value += n;
      },
      get value() {
        return c.value;
      },
    };
  }
}

export interface GaugeChild {
  set(v: number): void;
  inc(n?: number): void;
  dec(n?: number): void;
  readonly value: number;
}

/** Goes up and down. `set(3)` or `set({ topic: 't' }, 3)`; inc/dec likewise. */
export class Gauge<L extends string = never> extends Metric<L, Cell> {
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super('gauge', name, help, labelNames);
    if (labelNames.length === 0) this.series.set('', this.fresh());
  }

  protected fresh(): Cell {
    return { value: 0 };
  }

  protected read(c: Cell): number {
    return c.value;
  }

  set(value: number): void;
  set(labels: LabelValues<L>, value: number): void;
  set(a: LabelValues<L> | number, b?: number): void {
    if (typeof a === 'number') this.cell(undefined).value = a;
    else this.cell(a).value = b ?? NaN;
  }

  inc(n?: number): void;
  inc(labels: LabelValues<L>, n?: number): void;
  inc(a?: LabelValues<L> | number, b?: number): void {
    if (typeof a === 'number') this.cell(undefined).value += a;
    else this.cell(a).value += b ?? 1;
  }

  dec(n?: number): void;
  dec(labels: LabelValues<L>, n?: number): void;
  dec(a?: LabelValues<L> | number, b?: number): void {
    if (typeof a === 'number') this.cell(undefined).value -= a;
    else this.cell(a).value -= b ?? 1;
  }

  value(labels?: LabelValues<L>): number {
    return this.series.get(labelKey(this.name, this.labelNames, labels))?.value ?? 0;
  }

  labels(labels: LabelValues<L>): GaugeChild {
    const c = this.cell(labels);
    return {
      set(v) {
        c.value = v;
      },
      inc(n = 1) {
        c.value += n;
      },
      dec(n = 1) {
        c.value -= n;
      },
      get value() {
        return c.value;
      },
    };
  }
}

export { Metric };
