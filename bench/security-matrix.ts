import os from 'node:os';
import { Redis } from 'ioredis';
import type { TestCluster } from '../testkit/broker/cluster.js';
import { cpuMeter } from './cpu.js';
import { brokerSettings, machineInfo, startCluster, type MachineInfo } from './environment.js';
import type { ConnectionSecurity, HttpConnection } from './http-conn.js';
import type { BenchOptions } from './options.js';
import { batchBody, produceBody } from './payload.js';
import { alternate, runFor } from './rounds.js';
import { SecurityMaterial, describeSecurity, type SecuritySetting } from './security.js';
import { median, pairedRatios, present } from './stats.js';
import { number } from './format.js';
import type { MatrixWorkload, SecurityReport, SecurityResult } from './types.js';
import { BATCH, CLIENTS as BATCH_CLIENTS } from './workloads/batch-produce.js';
import { closeAll, ensureTopic, expectOk, openConnections } from './workloads/context.js';
import { CLIENTS as SINGLE_CLIENTS } from './workloads/single-produce.js';

/** The four settings, plain first (every ratio is to it). */
export const SECURITY_SETTINGS: readonly SecuritySetting[] = [
  { auth: false, tls: false },
  { auth: true, tls: false },
  { auth: false, tls: true },
  { auth: true, tls: true },
];

const SINGLE_TOPIC = 'bench-single';
const BATCH_TOPIC = 'bench-batch';

/** One cluster of the matrix with its open connections (reopened on the new leader after a failed round). */
class MatrixCluster {
  private single: HttpConnection[] = [];
  private batch: HttpConnection[] = [];
  readonly recordsPerS: Record<MatrixWorkload, (number | null)[]> = { single: [], batch: [] };
  readonly cpuUs: Record<MatrixWorkload, (number | null)[]> = { single: [], batch: [] };
  readonly errors: Record<MatrixWorkload, string[]> = { single: [], batch: [] };
  readonly othersCpu: Record<MatrixWorkload, (number | null)[]> = { single: [], batch: [] };
  private readonly singleBodies = Array.from({ length: SINGLE_CLIENTS }, (_, w) => produceBody(SINGLE_TOPIC, w));
  private readonly batchBody = batchBody(BATCH_TOPIC, BATCH);

  constructor(
    readonly setting: SecuritySetting,
    readonly cluster: TestCluster,
    private readonly security: ConnectionSecurity,
    private readonly partitions: number,
  ) {}

  get name(): string {
    return describeSecurity(this.setting);
  }

  /** Finds the leader, creates the topics there (once), opens the connections of both workloads. */
  async connect(): Promise<void> {
    this.close();
    const url = (await this.cluster.waitForLeader()).broker.url;
    await ensureTopic(url, SINGLE_TOPIC, this.partitions, this.security);
    await ensureTopic(url, BATCH_TOPIC, this.partitions, this.security);
    this.single = await openConnections(url, SINGLE_CLIENTS, this.security);
    this.batch = await openConnections(url, BATCH_CLIENTS, this.security);
  }

  /** One timed round of `workload`; recorded unless `warm`. A failed round is recorded as null and the connections reopened. */
  async round(workload: MatrixWorkload, ms: number, warm: boolean, log: (line: string) => void, others: MatrixCluster[]): Promise<void> {
    const cpu = cpuMeter(this.cluster.brokers.map((b) => b.pid));
    const othersCpu = cpuMeter(others.flatMap((c) => c.cluster.brokers.map((b) => b.pid)));
    let records = 0;
    try {
      const elapsed =
        workload === 'single'
          ? await runFor(ms, SINGLE_CLIENTS, async (w) => {
              const r = await this.single[w]!.request('POST', '/produce', this.singleBodies[w]!);
              expectOk(r.status, r.body, 'POST /produce');
              records++;
            })
          : await runFor(ms, BATCH_CLIENTS, async (w) => {
              const r = await this.batch[w]!.request('POST', '/produce/batch', this.batchBody);
              expectOk(r.status, r.body, 'POST /produce/batch');
              records += BATCH;
            });
      const cpuMs = cpu();
      const othersMs = othersCpu();
      if (warm) return;
      this.othersCpu[workload].push(othersMs === null ? null : (othersMs * 1000) / elapsed);
      this.recordsPerS[workload].push((records * 1000) / elapsed);
      this.cpuUs[workload].push(cpuMs === null || records === 0 ? null : (cpuMs * 1000) / records);
    } catch (err) {
      const why = (err as Error).message.split('\n')[0]!;
      log(`security matrix: ${this.name} ${workload} round failed: ${why}`);
      if (!warm) {
        this.recordsPerS[workload].push(null);
        this.cpuUs[workload].push(null);
        this.othersCpu[workload].push(null);
        this.errors[workload].push(why);
      }
      await this.connect();
    }
  }

  close(): void {
    closeAll(this.single);
    closeAll(this.batch);
    this.single = [];
    this.batch = [];
  }
}

/**
 * Single and batch produce (the same clients as those workloads: 32 × POST /produce, 4 × 1,000
 * records per POST /produce/batch) on four clusters that differ only in security: plain, auth,
 * tls, auth+tls. All four run for the whole matrix; each round runs every setting once, back to
 * back, the starting one rotating, so drift of a shared machine hits every setting alike, and a
 * setting's ratio is the median of its per-round ratios to plain.
 */
export async function securityMatrix(
  o: BenchOptions,
  log: (line: string) => void,
): Promise<{ report: SecurityReport; machine: MachineInfo; settings: ReturnType<typeof brokerSettings> }> {
  const material = await SecurityMaterial.make({ auth: true, tls: true });
  const clusters: MatrixCluster[] = [];
  const stopOnSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping the clusters`);
    void Promise.all(clusters.map((c) => c.cluster.stop()))
      .then(() => material.remove())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    for (const s of SECURITY_SETTINGS) {
      log(`security matrix: starting the ${describeSecurity(s)} cluster`);
      const settings = brokerSettings(o, s);
      const c = new MatrixCluster(s, await startCluster(settings, material), material.connection(s), settings.partitions);
      clusters.push(c);
      await c.connect();
    }
    const redis = new Redis(clusters[0]!.cluster.redis.url, { maxRetriesPerRequest: 1 });
    let machine: MachineInfo;
    try {
      machine = await machineInfo(redis);
    } finally {
      redis.disconnect();
    }
    const warm = Math.min(1500, o.roundMs);
    for (const workload of ['single', 'batch'] as const) {
      log(`-- security matrix: ${workload} produce`);
      // Unmeasured first: V8 compiles the hot paths (and TLS sessions settle) on every cluster.
      const others = (c: MatrixCluster) => clusters.filter((x) => x !== c);
      for (const c of clusters) await c.round(workload, warm, true, log, others(c));
      await alternate(o.rounds, clusters.map((c) => () => c.round(workload, o.roundMs, false, log, others(c))));
      for (const c of clusters) log(`${workload} ${c.name}: ${c.recordsPerS[workload].map((v) => (v === null ? 'failed' : Math.round(v))).join(', ')} records/s`);
    }
    const plain = clusters[0]!;
    const results: SecurityResult[] = [];
    for (const workload of ['single', 'batch'] as const) {
      for (const c of clusters) {
        results.push({
          workload,
          setting: c.name,
          auth: c.setting.auth,
          tls: c.setting.tls,
          recordsPerS: median(present(c.recordsPerS[workload])),
          ratioToPlain: median(pairedRatios(c.recordsPerS[workload], plain.recordsPerS[workload])),
          cpuUsPerRecord: median(present(c.cpuUs[workload])),
          cpuRatioToPlain: median(pairedRatios(c.cpuUs[workload], plain.cpuUs[workload])),
          rounds: { recordsPerS: c.recordsPerS[workload], cpuUsPerRecord: c.cpuUs[workload] },
          othersCpuMsPerS: median(present(c.othersCpu[workload])),
          ...(c.errors[workload].length ? { errors: c.errors[workload] } : {}),
        });
      }
    }
    return {
      machine,
      settings: brokerSettings(o, { auth: false, tls: false }),
      report: {
        method:
          'four 3-broker clusters (plain, auth, tls, auth+tls) run side by side; each round runs every setting once, back to back, the first rotating; figures are medians over rounds, ratios medians of per-round ratios to plain. Replication frames are HMAC-signed in every setting.',
        rounds: o.rounds,
        roundMs: o.roundMs,
        results,
      },
    };
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    for (const c of clusters) c.close();
    await Promise.all(clusters.map((c) => c.cluster.stop()));
    await material.remove();
  }
}

/** The matrix as a small text table. */
export function renderSecurity(r: SecurityReport): string {
  const header = ['workload', 'setting', 'records/s', 'ratio to plain', 'broker CPU µs/record', 'CPU ratio'];
  const ratio = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)}×`);
  const body = r.results.map((x) => [
    x.workload === 'single' ? `single produce (${SINGLE_CLIENTS} clients)` : `batch produce (${BATCH_CLIENTS} × ${BATCH.toLocaleString('en')})`,
    x.setting,
    number(x.recordsPerS),
    ratio(x.ratioToPlain),
    number(x.cpuUsPerRecord),
    ratio(x.cpuRatioToPlain),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const background = r.results.map((x) => x.othersCpuMsPerS).filter((v): v is number => v !== null);
  const failed = r.results.filter((x) => x.errors?.length).map((x) => `${x.workload} ${x.setting}: ${x.errors!.length} round(s) failed: ${x.errors![0]}`);
  return [
    `security matrix: ${r.rounds} round(s) of ${r.roundMs} ms per setting, interleaved; ratio = median of per-round setting ÷ plain; CPU = all three brokers`,
    '',
    fmt(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(fmt),
    ...(background.length ? ['', `the three idle clusters used ${Math.min(...background).toFixed(0)}–${Math.max(...background).toFixed(0)} ms of CPU per second during the measured rounds (of ${os.cpus().length * 1000} ms on ${os.cpus().length} cores)`] : []),
    ...(failed.length ? ['', ...failed] : []),
  ].join('\n');
}
