export { MetricsRegistry, PROMETHEUS_PREFIX, DEFAULT_RESERVOIR_SIZE } from './registry.js';
export {
  Counter,
  Gauge,
  type CounterChild,
  type GaugeChild,
  type MetricType,
  type Reading,
  type SummarySnapshot,
} from './metric.js';
export { Summary, Reservoir, type SummaryChild } from './summary.js';
export { escapeLabelValue, escapeHelp, type LabelValues } from './labels.js';
