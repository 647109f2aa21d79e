import type { BrokerSettings, MachineInfo } from './environment.js';
import type { Mode } from './options.js';
import type { SecurityReport } from './security-matrix.js';

/** One line of the table and of results.json. */
export interface Row {
  /** Stable key, e.g. `batch.records_per_s`. */
  id: string;
  /** What is measured, as printed. */
  figure: string;
  unit: string;
  /** YAK's figure: the median over rounds (a peak for memory); null when it could not be measured. */
  yak: number | null;
  /** What YAK is compared with in the same run; null when nothing is (printed as —). */
  comparison: { label: string; value: number | null } | null;
  /** Median of the per-round ratios YAK ÷ comparison (each pair measured back to back). */
  ratio: number | null;
  target?: { text: string; met: boolean | null };
  /** Why the row was not measured at all. */
  skipped?: string;
  /** Why the measurement failed. */
  error?: string;
  /** Every round's figures, YAK's and the comparison's, in the order they ran. */
  rounds?: { yak: (number | null)[]; comparison?: (number | null)[] };
  notes?: string;
}

export interface BenchReport {
  version: 1;
  mode: Mode;
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  /** auth/tls: whether the brokers ran with them; 'matrix' for a --security-matrix run (all four settings, see `security`). */
  settings: Omit<BrokerSettings, 'auth' | 'tls'> & { auth: boolean | 'matrix'; tls: boolean | 'matrix'; payloadBytes: number; rounds: number; roundMs: number };
  client: string;
  /** The workloads' rows (none in a --security-matrix run). */
  rows: Row[];
  /** --security-matrix: single and batch produce with auth and TLS on and off. */
  security?: SecurityReport;
}
