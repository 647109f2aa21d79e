import type { BrokerSettings, MachineInfo } from './environment.js';
import type { Mode } from './options.js';

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

/** --security-matrix (security-matrix.ts). */
export type MatrixWorkload = 'single' | 'batch';

/** One workload under one setting: the `security` key of results.json holds one per pair. */
export interface SecurityResult {
  workload: MatrixWorkload;
  setting: string;
  auth: boolean;
  tls: boolean;
  /** Median over rounds. */
  recordsPerS: number | null;
  /** Median of the per-round ratios to plain (rounds of a setting and of plain run a few seconds apart); 1 for plain. */
  ratioToPlain: number | null;
  /** CPU of the three brokers ÷ records, µs; median over rounds. */
  cpuUsPerRecord: number | null;
  cpuRatioToPlain: number | null;
  rounds: { recordsPerS: (number | null)[]; cpuUsPerRecord: (number | null)[] };
  /** CPU the other three (idle) clusters' brokers used during this setting's rounds, ms per second (median): the matrix's own background. */
  othersCpuMsPerS: number | null;
  /** Rounds that failed (e.g. a leader change), with why; their figures are null. */
  errors?: string[];
}

export interface SecurityReport {
  method: string;
  rounds: number;
  roundMs: number;
  results: SecurityResult[];
}

