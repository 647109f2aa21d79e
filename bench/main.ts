import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchEnvironment, type MachineInfo } from './environment.js';
import type { BenchOptions, Workload } from './options.js';
import { PAYLOAD_BYTES } from './payload.js';
import { securityMatrix } from './security-matrix.js';
import { renderReport } from './table.js';
import type { BenchReport, Row } from './types.js';
import { batchProduce } from './workloads/batch-produce.js';
import { consume } from './workloads/consume.js';
import type { WorkloadContext } from './workloads/context.js';
import { compressionWorkload } from './workloads/compression.js';
import { endToEnd } from './workloads/end-to-end.js';
import { failover } from './workloads/failover.js';
import { partitions } from './workloads/partitions.js';
import { groups } from './workloads/groups.js';
import { kafkaWorkload } from './workloads/kafka.js';
import { singleProduce } from './workloads/single-produce.js';
import { transport } from './workloads/transport.js';

/**
 * In the order they run: failover after the others, because it restarts brokers (and so resets
 * their memory); partitions last, on a cluster of its own.
 */
const RUNNERS: Record<Workload, (ctx: WorkloadContext) => Promise<Row[]>> = {
  single: singleProduce,
  transport,
  batch: batchProduce,
  consume,
  kafka: kafkaWorkload,
  e2e: endToEnd,
  compression: compressionWorkload,
  groups,
  failover,
  partitions,
};

export const CLIENT_DESCRIPTION =
  'a minimal HTTP/1.1 client on one keep-alive socket per concurrent client (bench/http-conn.ts; ~12 µs of client CPU per request, against ~50 µs for node:http with a keep-alive Agent and ~0.5 ms for fetch); a raw-wire pipelined Kafka client for the Kafka rows (bench/kafka-conn.ts); ioredis 5 for Redis';

/** CPU and memory figures come from /proc: elsewhere they are skipped, not failed. */
function explainMissingProc(row: Row): Row {
  const fromProc = row.id.endsWith('.cpu_us_per_record') || row.id.startsWith('memory.');
  return fromProc && row.yak === null && !row.skipped && !existsSync('/proc/self/stat') ? { ...row, skipped: 'needs /proc (Linux)' } : row;
}

/**
 * Starts the environment, runs the chosen workloads, prints the table to stdout, writes the JSON
 * report, and always takes every process it started down again.
 */
export async function runBench(options: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (options.securityMatrix) {
    log(`starting four 3-broker clusters (plain, auth, tls, auth+tls; ${options.mode} run)`);
    const { report: security, machine, settings } = await securityMatrix(options, log);
    return finish(options, log, {
      version: 1,
      mode: options.mode,
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      machine,
      settings: { ...settings, auth: 'matrix', tls: 'matrix', payloadBytes: PAYLOAD_BYTES, rounds: options.rounds, roundMs: options.roundMs },
      client: CLIENT_DESCRIPTION,
      rows: [],
      security,
    });
  }
  log(`starting two redis-servers (leases, streams) and 3 brokers (${options.mode} run)`);
  const env = await BenchEnvironment.start(options);
  const stopOnSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping the cluster`);
    void env.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const rows: Row[] = [];
  let machine: MachineInfo | undefined;
  try {
    machine = await env.machine();
    const ctx: WorkloadContext = { env, options, log };
    for (const w of Object.keys(RUNNERS) as Workload[]) {
      if (!options.only.includes(w)) continue;
      log(`-- ${w}`);
      try {
        rows.push(...(await RUNNERS[w](ctx)).map(explainMissingProc));
      } catch (err) {
        log(`${w} failed: ${(err as Error).stack ?? String(err)}`);
        if (process.env.YAK_BENCH_DEBUG) log(env.cluster.describe());
        rows.push({ id: w, figure: w, unit: '', yak: null, comparison: null, ratio: null, error: (err as Error).message });
      }
    }
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await env.stop();
  }
  const report: BenchReport = {
    version: 1,
    mode: options.mode,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    machine: machine!, // set: env.machine() threw otherwise, and so did this function
    settings: { ...env.settings, payloadBytes: PAYLOAD_BYTES, rounds: options.rounds, roundMs: options.roundMs },
    client: CLIENT_DESCRIPTION,
    rows,
  };
  return finish(options, log, report);
}

/** Writes the JSON report and prints the table. */
async function finish(options: BenchOptions, log: (line: string) => void, report: BenchReport): Promise<BenchReport> {
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(renderReport(report) + '\n');
  log(`wrote ${options.out}`);
  return report;
}
