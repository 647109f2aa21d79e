import type { RatePoint } from '../../../shared/cluster-api.js';
import { sumCounter } from './observation.js';

export interface CounterSample {
  at: number;
  /** Produce-side counter of the current leader (records_in*), if it reports one. */
  leaderId: string | null;
  /** records_in / records_out counters by broker id, null where the broker has none. */
  recordsIn: Map<string, number | null>;
  recordsOut: Map<string, number | null>;
  /** The supervisor's own totals (its produce/consume calls), used when brokers report no counters. */
  ownProduced: number;
  ownConsumed: number;
}

export function countersFrom(metrics: ReadonlyMap<string, Record<string, unknown>>): {
  recordsIn: Map<string, number | null>;
  recordsOut: Map<string, number | null>;
} {
  const recordsIn = new Map<string, number | null>();
  const recordsOut = new Map<string, number | null>();
  for (const [id, values] of metrics) {
    recordsIn.set(id, sumCounter(values, 'records_in'));
    recordsOut.set(id, sumCounter(values, 'records_out'));
  }
  return { recordsIn, recordsOut };
}

/**
 * Message rates over time. Produced: the leader's records_in counter (every produce goes through
 * the leader). Consumed: records_out summed over all brokers (any broker serves reads). A counter
 * that went down (broker restarted) or a broker seen for the first time contributes nothing for
 * that interval rather than a bogus spike. A point at most every `spacingMs`, `keep` points kept.
 */
export class RateTracker {
  private last: CounterSample | null = null;
  private readonly points: RatePoint[] = [];

  constructor(
    private readonly spacingMs = 1000,
    private readonly keep = 120,
  ) {}

  reset(): void {
    this.last = null;
    this.points.length = 0;
  }

  history(): RatePoint[] {
    return [...this.points];
  }

  sample(s: CounterSample): void {
    const prev = this.last;
    if (prev && s.at - prev.at < this.spacingMs) return;
    this.last = s;
    if (!prev) return;
    const seconds = (s.at - prev.at) / 1000;
    const brokerIn = s.leaderId ? delta(prev.recordsIn.get(s.leaderId), s.recordsIn.get(s.leaderId)) : null;
    let brokerOut: number | null = null;
    for (const [id, value] of s.recordsOut) {
      const d = delta(prev.recordsOut.get(id), value);
      if (d !== null) brokerOut = (brokerOut ?? 0) + d;
    }
    const produced = brokerIn ?? Math.max(0, s.ownProduced - prev.ownProduced);
    const consumed = brokerOut ?? Math.max(0, s.ownConsumed - prev.ownConsumed);
    this.points.push({ at: s.at, producedPerSec: round(produced / seconds), consumedPerSec: round(consumed / seconds) });
    if (this.points.length > this.keep) this.points.splice(0, this.points.length - this.keep);
  }
}

function delta(before: number | null | undefined, after: number | null | undefined): number | null {
  if (after === null || after === undefined) return null;
  if (before === null || before === undefined || after < before) return 0;
  return after - before;
}

const round = (n: number) => Math.round(n * 10) / 10;
