import { EventEmitter } from 'node:events';
import type { StorageError, StorageFaultKind } from './storage-error.js';
import type { StorageObserver } from './types.js';

/** What /health shows of the data folder's storage. */
export interface StorageView {
  state: 'ok' | 'faulted';
  /** The fault's kind and errno code while faulted. */
  kind?: StorageFaultKind;
  errno?: string;
  /** When the current fault began (ISO time). */
  since?: string;
  /** Writes refused since the current fault began. */
  failed_writes: number;
  /** Storage faults met since start (every failed write), for metrics and alerts. */
  failed_writes_total: number;
  /** Faults (conditions, not writes) since start. */
  faults_total: number;
}

export interface StorageHealthOptions {
  log: (level: 'info' | 'warn', line: string, event?: string, fields?: Record<string, string | number>) => void;
  /** Wall clock, ms. */
  now?: () => number;
  /**
   * A write's success ends a fault only when no write failed for this long (default 2000 ms): on a
   * full disk a small write into a file's last page can succeed between failing ones, and the
   * condition must not flap (and log) with each. probeSucceeded() ends it at once.
   */
  quietMs?: number;
}

interface Fault {
  kind: StorageFaultKind;
  errno: string;
  since: number;
  lastFailure: number;
  failures: number;
  first: string;
}

/**
 * The storage condition of one broker's data folder, as its logs report writes (StorageObserver).
 * A fault is one condition: it is logged once when the first write fails and once when a write
 * succeeds again, with the count of writes it refused in between — never once per write, so a
 * follower retrying against a full disk does not flood its own log.
 */
export class StorageHealth extends EventEmitter<{ change: [faulted: boolean] }> implements StorageObserver {
  private fault: Fault | null = null;
  private failedTotal = 0;
  private faultsTotal = 0;
  private readonly now: () => number;

  constructor(private readonly o: StorageHealthOptions) {
    super();
    this.now = o.now ?? Date.now;
  }

  failed(err: StorageError): void {
    this.failedTotal++;
    if (this.fault) {
      this.fault.failures++;
      this.fault.lastFailure = this.now();
      return;
    }
    this.faultsTotal++;
    const now = this.now();
    this.fault = { kind: err.kind, errno: err.errno, since: now, lastFailure: now, failures: 1, first: err.message };
    this.o.log('warn', `storage fault (${err.kind}, ${err.errno}): ${err.message}; refusing writes until one succeeds again (logged once more when it does)`, 'storage.fault', { kind: err.kind, errno: err.errno });
    this.emit('change', true);
  }

  /** A log's write succeeded: ends a fault once no write has failed for quietMs. */
  succeeded(): void {
    const f = this.fault;
    if (!f || this.now() - f.lastFailure < (this.o.quietMs ?? 2000)) return;
    this.clear(f);
  }

  /** A deliberate write (log/storage-probe.ts) succeeded: the data folder takes writes again. */
  probeSucceeded(): void {
    if (this.fault) this.clear(this.fault);
  }

  private clear(f: Fault): void {
    this.fault = null;
    const seconds = ((this.now() - f.since) / 1000).toFixed(1);
    this.o.log('info', `storage fault (${f.kind}, ${f.errno}) cleared after ${seconds} s: ${f.failures} write(s) failed meanwhile`, 'storage.cleared', { kind: f.kind, errno: f.errno, failed_writes: f.failures });
    this.emit('change', false);
  }

  faulted(): boolean {
    return this.fault !== null;
  }

  /** One line for /health's and /ready's reasons, or undefined when storage is fine. */
  reason(): string | undefined {
    const f = this.fault;
    return f ? `storage ${f.kind} (${f.errno}) since ${new Date(f.since).toISOString()}: ${f.failures} write(s) failed` : undefined;
  }

  view(): StorageView {
    const f = this.fault;
    const totals = { failed_writes_total: this.failedTotal, faults_total: this.faultsTotal };
    if (!f) return { state: 'ok', failed_writes: 0, ...totals };
    return { state: 'faulted', kind: f.kind, errno: f.errno, since: new Date(f.since).toISOString(), failed_writes: f.failures, ...totals };
  }
}
