import { checkLabelNames, checkMetricName, escapeHelp } from './labels.js';
import { Histogram } from './histogram.js';
import { Counter, Gauge, type HistogramSnapshot, type Reading, type SummarySnapshot } from './metric.js';
import { Summary } from './summary.js';

/** Prefix of every name in the Prometheus output (JSON keys go without it), unless a registry says otherwise. */
export const PROMETHEUS_PREFIX = 'yak_';
export const DEFAULT_RESERVOIR_SIZE = 1024;

type AnyMetric = Counter<string> | Gauge<string> | Summary<string> | Histogram<string>;

/**
 * A histogram in JSON: cumulative buckets in order, each bound written as Prometheus writes `le`
 * (a list, not an object: an object would put the integer-like bounds "1", "5" first).
 */
export interface HistogramJson {
  count: number;
  sum: number;
  p50: number | null;
  p99: number | null;
  buckets: { le: string; count: number }[];
}

export type JsonReading = number | SummarySnapshot | HistogramJson;

export interface RegistryOptions {
  /** Prepended to every name in the Prometheus output; default `yak_`. '' for standard names (process_*). */
  prefix?: string;
}

/**
 * A tiny metrics registry: counters, gauges and reservoir summaries, rendered as JSON or as
 * Prometheus text exposition format 0.0.4.
 *
 * JSON shape (toJSON): one flat object, keys sorted by metric name then by labels (numbers in
 * numeric order), no `yak_` prefix. A series is keyed by the metric name, plus its labels in
 * Prometheus form when it has any; counters and gauges map to a number, summaries to
 * {count, sum, p50, p99, max}:
 *
 *   {
 *     "high_watermark{topic=\"t\",partition=\"0\"}": 5,
 *     "produce_latency_ms": { "count": 12, "sum": 30.5, "p50": 2.1, "p99": 9.8, "max": 9.8 },
 *     "records_in_total": 12
 *   }
 *
 * A histogram maps to {count, sum, p50, p99, buckets: [{le: "0.001", count: 3}, ..., {le: "+Inf",
 * count: 12}]} (cumulative buckets; p50 and p99 estimated from them as histogram_quantile does).
 *
 * A metric without labels always has its one series (0 until touched); a labelled metric has a
 * series per label combination seen.
 */
export class MetricsRegistry {
  private readonly metrics = new Map<string, AnyMetric>();
  /** Every name a metric occupies in the output (a summary also owns _sum, _count and _max). */
  private readonly owners = new Map<string, string>();
  private readonly collectors: (() => void)[] = [];
  readonly prefix: string;

  constructor(options: RegistryOptions = {}) {
    this.prefix = options.prefix ?? PROMETHEUS_PREFIX;
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.register(name, 'counter', labelNames, () => new Counter<L>(name, help, labelNames));
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.register(name, 'gauge', labelNames, () => new Gauge<L>(name, help, labelNames));
  }

  summary<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    reservoirSize = DEFAULT_RESERVOIR_SIZE,
  ): Summary<L> {
    return this.register(name, 'summary', labelNames, () => new Summary<L>(name, help, labelNames, reservoirSize));
  }

  /** Fixed bucket bounds (upper, inclusive); a +Inf bucket is always added. */
  histogram<L extends string = never>(name: string, help: string, bounds: readonly number[], labelNames: readonly L[] = []): Histogram<L> {
    return this.register(name, 'histogram', labelNames, () => new Histogram<L>(name, help, labelNames, bounds));
  }

  /** Runs before every toJSON()/toPrometheus(): refresh gauges that are cheaper to read than to track. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  get(name: string): AnyMetric | undefined {
    return this.metrics.get(name);
  }

  toJSON(): Record<string, JsonReading> {
    const out: Record<string, JsonReading> = {};
    for (const m of this.collect()) {
      for (const [key, reading] of m.readings()) out[key ? `${m.name}{${key}}` : m.name] = m instanceof Histogram ? histogramJson(reading as HistogramSnapshot) : (reading as number | SummarySnapshot);
    }
    return out;
  }

  /** Prometheus text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4). */
  toPrometheus(): string {
    const lines: string[] = [];
    for (const m of this.collect()) {
      const name = this.prefix + m.name;
      const readings = m.readings();
      lines.push(`# HELP ${name} ${escapeHelp(m.help)}`, `# TYPE ${name} ${m.type}`);
      for (const [key, r] of readings) {
        if (typeof r === 'number') {
          lines.push(`${name}${braces(key)} ${num(r)}`);
          continue;
        }
        const sep = key ? ',' : '';
        if ('buckets' in r) {
          for (const [le, count] of r.buckets) lines.push(`${name}_bucket{${key}${sep}le="${num(le)}"} ${num(count)}`);
          lines.push(`${name}_sum${braces(key)} ${num(r.sum)}`, `${name}_count${braces(key)} ${num(r.count)}`);
          continue;
        }
        lines.push(
          `${name}{${key}${sep}quantile="0.5"} ${num(r.p50 ?? NaN)}`,
          `${name}{${key}${sep}quantile="0.99"} ${num(r.p99 ?? NaN)}`,
          `${name}_sum${braces(key)} ${num(r.sum)}`,
          `${name}_count${braces(key)} ${num(r.count)}`,
        );
      }
      if (m instanceof Summary) {
        // Max is no part of a Prometheus summary, so it is a gauge family of its own.
        lines.push(
          `# HELP ${name}_max ${escapeHelp(`${m.help} (largest of the last ${m.reservoirSize} observations)`)}`,
          `# TYPE ${name}_max gauge`,
        );
        for (const [key, r] of readings) {
          if (typeof r !== 'number' && 'max' in r) lines.push(`${name}_max${braces(key)} ${num(r.max ?? NaN)}`);
        }
      }
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  private collect(): AnyMetric[] {
    for (const fn of this.collectors) fn();
    return [...this.metrics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private register<M extends AnyMetric>(
    name: string,
    type: AnyMetric['type'],
    labelNames: readonly string[],
    make: () => M,
  ): M {
    const existing = this.metrics.get(name);
    if (existing) {
      // Registering the same metric twice (two modules, one registry) hands back the first.
      if (existing.type === type && sameList(existing.labelNames, labelNames)) return existing as M;
      throw new Error(`metric ${name} is already registered as a ${existing.type} with labels [${existing.labelNames.join(', ')}]`);
    }
    checkMetricName(name);
    checkLabelNames(name, labelNames, type === 'summary' ? ['quantile'] : type === 'histogram' ? ['le'] : []);
    const names =
      type === 'summary' ? [name, `${name}_sum`, `${name}_count`, `${name}_max`]
      : type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
      : [name];
    for (const n of names) {
      const owner = this.owners.get(n);
      if (owner !== undefined) throw new Error(`metric ${name} would clash with ${owner} over the name ${n}`);
    }
    const metric = make();
    for (const n of names) this.owners.set(n, name);
    this.metrics.set(name, metric);
    return metric;
  }
}

function histogramJson(h: HistogramSnapshot): HistogramJson {
  return { count: h.count, sum: h.sum, p50: h.p50, p99: h.p99, buckets: h.buckets.map(([le, count]) => ({ le: num(le), count })) };
}

function braces(key: string): string {
  return key ? `{${key}}` : '';
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
