/**
 * Many partitions on one broker (issue 10, item 3): how long creating T topics × 3 partitions takes,
 * how long a broker holding them takes to restart after a clean stop and after SIGKILL, and how
 * much CPU an idle cluster holding them burns. Runs its own cluster (the figures need thousands of
 * partitions, which the other workloads must not pay for).
 *
 *   node --import tsx bench/partitions.ts [--topics 3334] [--brokers 3] [--max-open-files 1024]
 *                                         [--concurrency 16] [--idle-seconds 10] [--json PATH]
 *                                         [--bin path/to/yak-broker.js]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { hasPrlimit, type BrokerProcess } from '../test/helpers/broker-process.js';
import { TestCluster } from '../test/helpers/cluster.js';
import { get } from '../test/helpers/http.js';
import { sleep, waitFor } from '../test/helpers/ports.js';
import { HttpConnection } from './http-conn.js';

export interface PartitionsOptions {
  topics: number;
  partitionsPerTopic: number;
  brokers: number;
  maxOpenFiles: number | undefined;
  concurrency: number;
  idleSeconds: number;
  /** Partitions produced to and read back (spread over the topics). */
  sample: number;
  /** A yak-broker entry to run instead of the repository's (a snapshot of an older build, for before/after figures). */
  bin?: string;
}

export interface PartitionsFigures {
  partitions: number;
  createSeconds: number;
  createStatuses: Record<string, number>;
  idleCpuPercent: number[];
  restartCleanSeconds: number;
  restartKilledSeconds: number;
  acknowledged: number;
  readBack: number;
}

const SECONDS_PER_TICK = 0.01;

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) * SECONDS_PER_TICK;
}

const topicName = (i: number) => `mp-${String(i).padStart(5, '0')}`;

/** Creates every topic through POST /topics, `concurrency` requests in flight; returns the statuses seen. */
async function createTopics(url: string, o: PartitionsOptions, log: (line: string) => void): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    const c = await HttpConnection.open(url, {});
    try {
      for (let i = next++; i < o.topics; i = next++) {
        const r = await c.request('POST', '/topics', JSON.stringify({ name: topicName(i), partitions: o.partitionsPerTopic }));
        const key = r.status === 201 ? '201' : `${r.status} ${r.body.toString('utf8').slice(0, 120)}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
        if ((i + 1) % 500 === 0) log(`  created ${i + 1} topics in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    } finally {
      c.close();
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return statuses;
}

/** One record to each sampled partition; returns what was acknowledged (topic, partition, offset, payload). */
async function produceSample(url: string, o: PartitionsOptions, round: number): Promise<{ topic: string; partition: number; offset: number; payload: string }[]> {
  const c = await HttpConnection.open(url, {});
  const acked: { topic: string; partition: number; offset: number; payload: string }[] = [];
  try {
    const step = Math.max(1, Math.floor(o.topics / o.sample));
    for (let i = 0, n = 0; i < o.topics && n < o.sample; i += step, n++) {
      const topic = topicName(i);
      const partition = n % o.partitionsPerTopic;
      const payload = JSON.stringify({ round, n });
      const r = await c.request('POST', '/produce', JSON.stringify({ topic, partition, payload: JSON.parse(payload) as unknown }));
      if (r.status !== 200) throw new Error(`produce to ${topic}/${partition}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 200)}`);
      const { offset } = JSON.parse(r.body.toString('utf8')) as { offset: number };
      acked.push({ topic, partition, offset, payload });
    }
  } finally {
    c.close();
  }
  return acked;
}

/** How many acknowledged records read back unchanged from `url`. */
async function readBack(url: string, acked: { topic: string; partition: number; offset: number; payload: string }[]): Promise<number> {
  const c = await HttpConnection.open(url, {});
  let ok = 0;
  try {
    for (const a of acked) {
      const r = await c.request('GET', `/consume?topic=${a.topic}&partition=${a.partition}&offset=${a.offset}&max=1`);
      if (r.status !== 200) continue;
      const body = JSON.parse(r.body.toString('utf8')) as { records: { offset: number; payload: unknown }[] };
      const rec = body.records[0];
      if (rec && rec.offset === a.offset && JSON.stringify(rec.payload) === a.payload) ok++;
    }
  } finally {
    c.close();
  }
  return ok;
}

/** Seconds from starting `b` until it answers /health (its logs are open by then). */
async function timedStart(b: BrokerProcess, log: (line: string) => void): Promise<number> {
  const t0 = performance.now();
  b.start();
  await waitFor(`${b.id} answering /health`, async () => {
    try {
      return (await get(b.url, '/health', 1000)).status === 200;
    } catch {
      return false;
    }
  }, 300_000, 20);
  const seconds = (performance.now() - t0) / 1000;
  const opened = b.output.filter((l) => l.includes('[logs] opened')).pop();
  if (opened) log(`  ${b.id}: ${opened.replace(/^.*\[logs\] /, '')}`);
  return seconds;
}

export async function measurePartitions(o: PartitionsOptions, log: (line: string) => void): Promise<PartitionsFigures> {
  if (o.maxOpenFiles !== undefined && !hasPrlimit()) throw new Error('--max-open-files needs prlimit(1) (util-linux) on PATH');
  log(`starting ${o.brokers} broker(s)${o.maxOpenFiles ? ` at an open-file limit of ${o.maxOpenFiles}` : ''}`);
  const cluster = await TestCluster.start({ brokers: o.brokers, leaseSeconds: 2, renewSeconds: 0.5, ...(o.bin !== undefined && { bin: o.bin }), ...(o.maxOpenFiles !== undefined && { maxOpenFiles: o.maxOpenFiles }) });
  try {
    const leader = (await cluster.waitForLeader()).broker;
    const partitions = o.topics * o.partitionsPerTopic;
    log(`creating ${o.topics} topics x ${o.partitionsPerTopic} partitions (${partitions}) on ${leader.id}, ${o.concurrency} in flight`);
    const t0 = performance.now();
    const createStatuses = await createTopics(leader.url, o, log);
    const createSeconds = (performance.now() - t0) / 1000;
    log(`  ${createSeconds.toFixed(1)} s: ${JSON.stringify(createStatuses)}`);
    await cluster.waitForInSync(o.brokers, 120_000);
    const acked = await produceSample(leader.url, o, 1);
    log(`produced ${acked.length} records to sampled partitions`);

    await sleep(3000);
    const pids = cluster.brokers.map((b) => b.pid!);
    const before = await Promise.all(pids.map(cpuSeconds));
    await sleep(o.idleSeconds * 1000);
    const after = await Promise.all(pids.map(cpuSeconds));
    const idleCpuPercent = after.map((a, i) => Math.round(((a - before[i]!) / o.idleSeconds) * 1000) / 10);
    log(`idle CPU over ${o.idleSeconds} s: ${idleCpuPercent.map((p, i) => `${cluster.brokers[i]!.id} ${p}%`).join(', ')}`);

    // The restarted broker: a follower when there are several (the figure is its opening time, not a failover).
    const target = cluster.brokers.find((b) => b !== leader) ?? leader;
    await target.stop(120_000);
    const restartCleanSeconds = await timedStart(target, log);
    log(`restart of ${target.id} after a clean stop: ${restartCleanSeconds.toFixed(2)} s`);
    await cluster.waitForInSync(o.brokers, 120_000);
    const url = (await cluster.waitForLeader()).broker.url;
    acked.push(...(await produceSample(url, o, 2)));
    await target.kill();
    const restartKilledSeconds = await timedStart(target, log);
    log(`restart of ${target.id} after SIGKILL: ${restartKilledSeconds.toFixed(2)} s`);
    await cluster.waitForInSync(o.brokers, 120_000);
    const back = await readBack(target.url, acked);
    log(`read back ${back} of ${acked.length} acknowledged records from ${target.id}`);
    return { partitions, createSeconds, createStatuses, idleCpuPercent, restartCleanSeconds, restartKilledSeconds, acknowledged: acked.length, readBack: back };
  } catch (err) {
    log(cluster.describe());
    throw err;
  } finally {
    await cluster.stop();
  }
}

function parse(argv: string[]): PartitionsOptions & { json?: string } {
  const o: PartitionsOptions & { json?: string } = { topics: 3334, partitionsPerTopic: 3, brokers: 3, maxOpenFiles: 1024, concurrency: 16, idleSeconds: 10, sample: 200 };
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i] ?? '';
    switch (argv[i]) {
      case '--topics': o.topics = Number(v()); break;
      case '--brokers': o.brokers = Number(v()); break;
      case '--max-open-files': { const n = v(); o.maxOpenFiles = n === 'none' ? undefined : Number(n); break; }
      case '--concurrency': o.concurrency = Number(v()); break;
      case '--idle-seconds': o.idleSeconds = Number(v()); break;
      case '--sample': o.sample = Number(v()); break;
      case '--json': o.json = v(); break;
      case '--bin': o.bin = v(); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return o;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const o = parse(process.argv.slice(2));
  const figures = await measurePartitions(o, (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
  if (o.json) await writeFile(o.json, JSON.stringify(figures, null, 2) + '\n');
}
