import { checkLabelNames, checkMetricName, escapeHelp } from './labels.js';
import { Counter, Gauge, type Reading } from './metric.js';
import { Summary } from './summary.js';

/** Prefix of every name in the Prometheus output (JSON keys go without it). */
export const PROMETHEUS_PREFIX = 'yak_';
export const DEFAULT_RESERVOIR_SIZE = 1024;

type AnyMetric = Counter<string> | Gauge<string> | Summary<string>;

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
 * A metric without labels always has its one series (0 until touched); a labelled metric has a
 * series per label combination seen.
 */
export class MetricsRegistry {
  private readonly metrics = new Map<string, AnyMetric>();
  /** Every name a metric occupies in the output (a summary also owns _sum, _count and _max). */
  private readonly owners = new Map<string, string>();
  private readonly collectors: (() => void)[] = [];

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

  /** Runs before every toJSON()/toPrometheus(): refresh gauges that are cheaper to read than to track. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  get(name: string): AnyMetric | undefined {
    return this.metrics.get(name);
  }

  toJSON(): Record<string, Reading> {
    const out: Record<string, Reading> = {};
    for (const m of this.collect()) {
      for (const [key, reading] of m.readings()) out[key ? `${m.name}{${key}}` : m.name] = reading;
    }
    return out;
  }

  /** Prometheus text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4). */
  toPrometheus(): string {
    const lines: string[] = [];
    for (const m of this.collect()) {
      const name = PROMETHEUS_PREFIX + m.name;
      const readings = m.readings();
      lines.push(`# HELP ${name} ${escapeHelp(m.help)}`, `# TYPE ${name} ${m.type}`);
      for (const [key, r] of readings) {
        if (typeof r === 'number') {
          lines.push(`${name}${braces(key)} ${num(r)}`);
          continue;
        }
        const sep = key ? ',' : '';
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
          if (typeof r !== 'number') lines.push(`${name}_max${braces(key)} ${num(r.max ?? NaN)}`);
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
    checkLabelNames(name, labelNames, type === 'summary' ? ['quantile'] : []);
    const names = type === 'summary' ? [name, `${name}_sum`, `${name}_count`, `${name}_max`] : [name];
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
