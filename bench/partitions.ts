/**
 * Many partitions on one broker (issue 10, item 3): how long creating T topics × 3 partitions takes,
 * producing one record to every partition and reading each back, how many files the brokers hold
 * open, how long a broker holding them takes to restart after a clean stop and after SIGKILL, and
 * how much CPU an idle cluster holding them burns. Runs its own cluster (the figures need thousands
 * of partitions, which the other workloads must not pay for). `npm run bench` runs it as its
 * `partitions` workload (workloads/partitions.ts); alone:
 *
 *   node --import tsx bench/partitions.ts [--topics 3334] [--brokers 3] [--max-open-files 1024]
 *                                         [--concurrency 16] [--idle-seconds 10] [--json PATH]
 *                                         [--bin path/to/yak-broker.js]
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { hasPrlimit, type BrokerProcess } from '../testkit/broker/process.js';
import { TestCluster } from '../testkit/broker/cluster.js';
import { get } from '../testkit/http.js';
import { sleep, waitFor } from '../testkit/wait.js';
import { HttpConnection } from './http-conn.js';

export interface PartitionsOptions {
  topics: number;
  partitionsPerTopic: number;
  brokers: number;
  maxOpenFiles: number | undefined;
  concurrency: number;
  idleSeconds: number;
  /** A yak-broker entry to run instead of the repository's (a snapshot of an older build, for before/after figures). */
  bin?: string;
}

export interface PartitionsFigures {
  partitions: number;
  /** The brokers' open-file limit (prlimit), when one was set. */
  maxOpenFiles: number | undefined;
  createSeconds: number;
  createStatuses: Record<string, number>;
  /** One record produced to every partition, `concurrency` in flight: records per second. */
  producePerS: number;
  /** Each of those read back from the leader (`GET /consume … max=1`), `concurrency` in flight. */
  consumePerS: number;
  /** Files open (/proc/<pid>/fd) in the leader and the most in any follower, after producing and reading every partition. */
  openFilesLeader: number;
  openFilesFollowerMax: number;
  idleCpuPercent: number[];
  idleCpuLeaderPercent: number;
  /** The restarted follower: spawn until its first /health answer, and until the leader counts it in sync again. */
  restartCleanSeconds: number;
  restartCleanInSyncSeconds: number;
  restartKilledSeconds: number;
  restartKilledInSyncSeconds: number;
  /** Files open in the restarted follower once it is in sync again. */
  openFilesRestarted: number;
  acknowledged: number;
  /** Acknowledged records read back unchanged from the restarted follower after both restarts. */
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

type Acked = { topic: string; partition: number; offset: number; payload: string };

/** Runs `each` over 0..n-1 on `concurrency` keep-alive connections to `url`. */
async function fanOut(url: string, n: number, concurrency: number, each: (c: HttpConnection, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    const c = await HttpConnection.open(url, {});
    try {
      for (let i = next++; i < n; i = next++) await each(c, i);
    } finally {
      c.close();
    }
  }));
}

/** One record to every partition of every topic; returns what was acknowledged. */
async function produceAll(url: string, o: PartitionsOptions): Promise<Acked[]> {
  const acked: Acked[] = [];
  await fanOut(url, o.topics * o.partitionsPerTopic, o.concurrency, async (c, i) => {
    const topic = topicName(Math.floor(i / o.partitionsPerTopic));
    const partition = i % o.partitionsPerTopic;
    const payload = JSON.stringify({ i });
    const r = await c.request('POST', '/produce', JSON.stringify({ topic, partition, payload: JSON.parse(payload) as unknown }));
    if (r.status !== 200) throw new Error(`produce to ${topic}/${partition}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 200)}`);
    const { offset } = JSON.parse(r.body.toString('utf8')) as { offset: number };
    acked.push({ topic, partition, offset, payload });
  });
  return acked;
}

/** How many acknowledged records read back unchanged from `url`. */
async function readBack(url: string, acked: Acked[], concurrency: number): Promise<number> {
  let ok = 0;
  await fanOut(url, acked.length, concurrency, async (c, i) => {
    const a = acked[i]!;
    const r = await c.request('GET', `/consume?topic=${a.topic}&partition=${a.partition}&offset=${a.offset}&max=1`);
    if (r.status !== 200) return;
    const body = JSON.parse(r.body.toString('utf8')) as { records: { offset: number; payload: unknown }[] };
    const rec = body.records[0];
    if (rec && rec.offset === a.offset && JSON.stringify(rec.payload) === a.payload) ok++;
  });
  return ok;
}

async function openFiles(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
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

    const t1 = performance.now();
    const acked = await produceAll(leader.url, o);
    const producePerS = acked.length / ((performance.now() - t1) / 1000);
    log(`produced one record to each of ${acked.length} partitions: ${Math.round(producePerS)} records/s`);
    const t2 = performance.now();
    const readFromLeader = await readBack(leader.url, acked, o.concurrency);
    const consumePerS = readFromLeader / ((performance.now() - t2) / 1000);
    log(`read ${readFromLeader} of them back from ${leader.id}: ${Math.round(consumePerS)} records/s`);
    if (readFromLeader !== acked.length) throw new Error(`only ${readFromLeader} of ${acked.length} acknowledged records read back from the leader`);
    await cluster.waitForInSync(o.brokers, 120_000);
    const followers = cluster.brokers.filter((b) => b !== leader);
    const openFilesLeader = await openFiles(leader.pid!);
    const openFilesFollowerMax = Math.max(0, ...(await Promise.all(followers.map((b) => openFiles(b.pid!)))));
    log(`open files: leader ${openFilesLeader}, followers up to ${openFilesFollowerMax}${o.maxOpenFiles ? ` (limit ${o.maxOpenFiles})` : ''}`);

    await sleep(Math.min(3000, o.idleSeconds * 1000));
    const pids = cluster.brokers.map((b) => b.pid!);
    const before = await Promise.all(pids.map(cpuSeconds));
    await sleep(o.idleSeconds * 1000);
    const after = await Promise.all(pids.map(cpuSeconds));
    const idleCpuPercent = after.map((a, i) => Math.round(((a - before[i]!) / o.idleSeconds) * 1000) / 10);
    log(`idle CPU over ${o.idleSeconds} s: ${idleCpuPercent.map((p, i) => `${cluster.brokers[i]!.id} ${p}%`).join(', ')}`);

    // The restarted broker: a follower when there are several (the figure is its opening time, not a failover).
    const target = followers[0] ?? leader;
    const timedRestart = async (how: 'clean stop' | 'SIGKILL'): Promise<[number, number]> => {
      if (how === 'SIGKILL') await target.kill();
      else await target.stop(120_000);
      const t = performance.now();
      const answering = await timedStart(target, log);
      await cluster.waitForInSync(o.brokers, 300_000);
      const inSync = (performance.now() - t) / 1000;
      log(`restart of ${target.id} after a ${how}: answering in ${answering.toFixed(2)} s, in sync in ${inSync.toFixed(2)} s`);
      return [answering, inSync];
    };
    const [restartCleanSeconds, restartCleanInSyncSeconds] = await timedRestart('clean stop');
    const [restartKilledSeconds, restartKilledInSyncSeconds] = await timedRestart('SIGKILL');
    const openFilesRestarted = await openFiles(target.pid!);
    const back = await readBack(target.url, acked, o.concurrency);
    log(`read back ${back} of ${acked.length} acknowledged records from ${target.id}; it holds ${openFilesRestarted} files open`);
    return {
      partitions,
      maxOpenFiles: o.maxOpenFiles,
      createSeconds,
      createStatuses,
      producePerS,
      consumePerS,
      openFilesLeader,
      openFilesFollowerMax,
      idleCpuPercent,
      idleCpuLeaderPercent: idleCpuPercent[cluster.brokers.indexOf(leader)]!,
      restartCleanSeconds,
      restartCleanInSyncSeconds,
      restartKilledSeconds,
      restartKilledInSyncSeconds,
      openFilesRestarted,
      acknowledged: acked.length,
      readBack: back,
    };
  } catch (err) {
    log(cluster.describe());
    throw err;
  } finally {
    await cluster.stop();
  }
}

function parse(argv: string[]): PartitionsOptions & { json?: string } {
  const o: PartitionsOptions & { json?: string } = { topics: 3334, partitionsPerTopic: 3, brokers: 3, maxOpenFiles: 1024, concurrency: 16, idleSeconds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i] ?? '';
    switch (argv[i]) {
      case '--topics': o.topics = Number(v()); break;
      case '--brokers': o.brokers = Number(v()); break;
      case '--max-open-files': { const n = v(); o.maxOpenFiles = n === 'none' ? undefined : Number(n); break; }
      case '--concurrency': o.concurrency = Number(v()); break;
      case '--idle-seconds': o.idleSeconds = Number(v()); break;
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
