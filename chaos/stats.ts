/** Where a chaos run's figures spread (the report's unavailability per fault). */

import { percentile } from '../testkit/stats.js';

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  return { n: values.length, p50: percentile(values, 50) ?? 0, p99: percentile(values, 99) ?? 0, max: values.reduce((m, v) => (v > m ? v : m), 0) };
}
