export { MetricsRegistry, PROMETHEUS_PREFIX, DEFAULT_RESERVOIR_SIZE, type HistogramJson, type JsonReading, type RegistryOptions } from './registry.js';
export {
  Counter,
  Gauge,
  type CounterChild,
  type GaugeChild,
  type MetricType,
  type Reading,
  type SummarySnapshot,
  type HistogramSnapshot,
} from './metric.js';
export { Summary, Reservoir, type SummaryChild } from './summary.js';
export { Histogram, Buckets, LATENCY_BUCKETS_SECONDS, estimateQuantile, type HistogramChild } from './histogram.js';
export { escapeLabelValue, escapeHelp, type LabelValues } from './labels.js';
export { runtimeMetrics, createRuntimeMetrics, EVENT_LOOP_WINDOW_MS } from './runtime.js';
