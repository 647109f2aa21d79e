import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { YakClient } from '../broker-runtime/src/client/index.js';
import { sleep } from '../testkit/wait.js';
import { check, type CheckResult } from './checker.js';
import { ChaosCluster } from './cluster.js';
import { finalReads, waitForStableHighWatermarks } from './final-read.js';
import { History } from './history.js';
import { recover, runNemesis } from './nemesis.js';
import { replayCommand, type ChaosOptions } from './options.js';
import { DISK_FULL_FAULTS, type StorageFaultName } from './storage-faults.js';
import { formatReport } from './report.js';
import { Rng } from '../testkit/rng.js';
import { Workload } from './workload.js';
import { GroupWorkload } from './group-workload.js';
import { MEMBER_FAULT_NAMES, type MemberFaultName } from './member-faults.js';

export const TOPIC = 'chaos';

export interface ChaosResult {
  seed: number;
  result: CheckResult;
  /** The printed report. */
  text: string;
  passed: boolean;
  historyPath: string;
  /** The run's folder; removed when the run passed and `removeOnPass` was asked for. */
  dir: string;
  seconds: number;
}

/**
 * One chaos run: a cluster behind proxies, the workload, the nemesis until the time (or the kill
 * loop) is up, a full heal, the final reads, the checker. Every process it starts is stopped
 * before it returns, whatever happens.
 */
export async function runChaos(o: ChaosOptions, log: (line: string) => void = () => {}, removeOnPass = false): Promise<ChaosResult> {
  const started = Date.now();
  const dir = o.out ?? (await mkdtemp(join(tmpdir(), `yak-chaos-${o.seed}-`)));
  await mkdir(dir, { recursive: true });
  const history = new History(join(dir, 'history.jsonl'));
  history.add({ f: 'run', process: 'harness', type: 'info', value: { seed: o.seed, options: { ...o } } });
  const rng = new Rng(o.seed);
  const leaseMs = o.leaseSeconds * 1000;
  const recoveryTimeoutMs = Math.max(30_000, leaseMs * 20);
  log(`seed ${o.seed}; run folder ${dir}`);

  let cluster: ChaosCluster | undefined;
  let groups: GroupWorkload | undefined;
  try {
    cluster = await ChaosCluster.start({
      dir,
      brokers: o.brokers,
      leaseSeconds: o.leaseSeconds,
      renewSeconds: o.renewSeconds,
      partitions: o.partitions,
      minInsync: o.minInsync,
      fsync: o.fsync,
      segmentBytes: o.segmentBytes,
      produceTimeoutSeconds: Math.max(2, o.leaseSeconds * 2),
      tmpfsMb: o.faults.some((f) => DISK_FULL_FAULTS.includes(f as StorageFaultName)) ? o.tmpfsMb : 0,
    });
    const c = cluster;
    let faults = o.faults;
    if (c.tmpfsUnavailable) {
      const skipped = faults.filter((f) => DISK_FULL_FAULTS.includes(f as StorageFaultName));
      faults = faults.filter((f) => !skipped.includes(f));
      for (const f of skipped) history.add({ f: 'skip', process: 'nemesis', type: 'info', fault: f, value: { reason: c.tmpfsUnavailable } });
      log(`skipping ${skipped.join(', ')}: no tmpfs for the brokers' data (${c.tmpfsUnavailable})`);
    }
    if (o.groupConsumers === 0) {
      const skipped = faults.filter((f) => MEMBER_FAULT_NAMES.includes(f as MemberFaultName));
      faults = faults.filter((f) => !skipped.includes(f));
      for (const f of skipped) history.add({ f: 'skip', process: 'nemesis', type: 'info', fault: f, value: { reason: 'no group consumers (--group-consumers 0)' } });
      if (skipped.length) log(`skipping ${skipped.join(', ')}: the run has no group consumers`);
    }
    log(`cluster up: ${c.brokers.map((b) => `${b.id} ${b.directUrl} (advertised ${b.url})`).join(', ')}; redis :${c.redis.port}`);
    await new YakClient({ brokers: c.urls(), retry: { retries: 30 } }).createTopic(TOPIC, o.partitions);
    const idOf = new Map(c.brokers.map((b) => [b.url, b.id]));
    const workload = new Workload(history, rng.stream('workload'), { urls: c.urls(), idOf: (u) => idOf.get(u) ?? u }, {
      topic: TOPIC,
      partitions: o.partitions,
      producers: o.producers,
      clientProducers: o.clientProducers,
      consumers: o.consumers,
      requestTimeoutMs: Math.max(3000, leaseMs * 3),
      thinkMs: [2, 15],
    });
    workload.start();
    groups = new GroupWorkload(history, c.urls(), { topic: TOPIC, members: o.groupConsumers, requestTimeoutMs: Math.max(3000, leaseMs * 3) });
    groups.start();
    await sleep(Math.max(1000, leaseMs));
    const counts = await runNemesis(c, history, rng.stream('nemesis'), {
      faults,
      until: o.killLoop || o.rounds ? Number.POSITIVE_INFINITY : Date.now() + o.durationMs,
      ...(o.killLoop !== undefined && { maxFaults: o.killLoop }),
      ...(o.killLoop === undefined && o.rounds !== undefined && { maxFaults: o.rounds * faults.length }),
      leaseMs,
      recoveryTimeoutMs,
      quiet: o.killLoop ? [0.1, 0.5] : [0.3, 1],
      members: groups,
      log,
    });
    log(`nemesis done: ${[...counts].map(([f, n]) => `${f}×${n}`).join(', ')}; healing`);
    await c.healAll();
    await recover(c, history, { recoveryTimeoutMs, log }, 'final heal');
    // Keep writing a while after the heal: the healed cluster must take writes too.
    await sleep(Math.max(2000, leaseMs * 2));
    await workload.stop();
    const stable = await waitForStableHighWatermarks(c, TOPIC, 60_000);
    history.add({ f: 'run', process: 'harness', type: 'info', value: { stable } });
    if (!stable) log('high-water marks did not settle; reading anyway');
    if (o.groupConsumers > 0) {
      const { topics } = await new YakClient({ brokers: c.urls(), retry: { retries: 30 } }).topics();
      const hwm = new Map((topics.find((t) => t.name === TOPIC)?.partitions ?? []).map((p) => [p.partition, p.high_watermark]));
      const groupDrained = await groups.drain(hwm, 60_000);
      history.add({ f: 'run', process: 'harness', type: 'info', value: { groupDrained } });
      if (!groupDrained) log('the consumer group did not process every partition to its high-water mark in time');
    }
    await groups.stop();
    await finalReads(c, TOPIC, history);
  } finally {
    await groups?.stop(2000);
    if (cluster && !cluster.brokers.every((b) => b.proc.running())) log(`at the end:\n${cluster.describe(10)}`);
    await cluster?.stop();
    await history.close();
    await rm(join(dir, 'broker'), { recursive: true, force: true });
  }

  const seconds = (Date.now() - started) / 1000;
  const result = check(history.ops);
  const passed = result.safe && result.liveness.length === 0;
  const text = formatReport(result, { seed: o.seed, seconds, historyPath: history.path, replay: replayCommand(o) });
  if (passed && !o.keepData) await rm(join(dir, 'data'), { recursive: true, force: true });
  if (passed && removeOnPass) await rm(dir, { recursive: true, force: true });
  return { seed: o.seed, result, text, passed, historyPath: history.path, dir, seconds };
}

/** Re-run the checker over a history file written by an earlier run. */
export async function recheck(path: string): Promise<{ result: CheckResult; text: string; passed: boolean }> {
  const ops = await History.load(path);
  const first = ops[0];
  const seed = first && first.f === 'run' && typeof first.value.seed === 'number' ? first.value.seed : -1;
  const result = check(ops);
  const text = formatReport(result, { seed, seconds: (ops[ops.length - 1]?.t ?? 0) / 1000, historyPath: path, replay: `npm run chaos -- --seed ${seed}` });
  return { result, text, passed: result.safe && result.liveness.length === 0 };
}
