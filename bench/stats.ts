/** Order statistics over samples; every figure the benchmark prints is one of these. */

export { max, median, percentile } from '../testkit/stats.js';

/** Per-round ratios a[i] / b[i] (rounds where either side failed are left out). */
export function pairedRatios(a: readonly (number | null)[], b: readonly (number | null)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== null && x !== undefined && y !== null && y !== undefined && y > 0) out.push(x / y);
  }
  return out;
}

export const present = (values: readonly (number | null)[]): number[] => values.filter((v): v is number => v !== null);
