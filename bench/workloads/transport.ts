import { performance } from 'node:perf_hooks';
import type { TestCluster } from '../../testkit/broker/cluster.js';
import { cpuMeter } from '../cpu.js';
import type { HttpConnection } from '../http-conn.js';
import { batchBody, produceBody } from '../payload.js';
import { alternate, runFor } from '../rounds.js';
import { median, pairedRatios, percentile, present } from '../stats.js';
import type { Row } from '../types.js';
import { closeAll, ensureTopic, expectOk, openConnections, type WorkloadContext } from './context.js';

const SINGLE_CLIENTS = 32;
const BATCH_CLIENTS = 4;
const BATCH = 1000;
const SINGLE_TOPIC = 'bench-transport-single';
const BATCH_TOPIC = 'bench-transport-batch';
const POST_LABEL = 'POST per frame (--replication-stream off)';

/**
 * The second cluster: by default this build with --replication-stream off. For before/after
 * figures of a change in one run, YAK_BENCH_SIBLING_BIN (another build's yak-broker.js) and
 * YAK_BENCH_SIBLING_FLAGS (its flags, space-separated; '' for none) replace it, and the rows name it.
 */
function sibling(): { bin: string | undefined; flags: string[]; label: string } {
  const bin = process.env.YAK_BENCH_SIBLING_BIN || undefined;
  const given = process.env.YAK_BENCH_SIBLING_FLAGS;
  if (bin === undefined && given === undefined) return { bin, flags: ['--replication-stream', 'off'], label: POST_LABEL };
  const flags = (given ?? '--replication-stream off').split(' ').filter(Boolean);
  return { bin, flags, label: `sibling: ${bin ?? 'this build'} ${flags.join(' ')}`.trim() };
}

interface Side {
  cluster: TestCluster;
  single: HttpConnection[];
  batch: HttpConnection[];
  figures: { single: Figures[]; batch: Figures[]; one: Figures[] };
}

interface Figures {
  rate: number | null;
  cpu: number | null;
  p50: number | null;
}

/**
 * The replication transport before and after, in one run: the run's cluster (replication streams,
 * the default) and a second one started with `--replication-stream off` (one HTTP POST per frame,
 * as before streams), same settings, same client, rounds interleaved. Single produce (32 clients,
 * one record per request) is where the transport is most of the cost; batch produce (4 × 1,000)
 * must not get worse; one producer (1 client, a record at a time) is where a round trip of the
 * commit shows, CPU aside. Consume does not touch replication and is not repeated here.
 */
export async function transport(ctx: WorkloadContext): Promise<Row[]> {
  const { env, options } = ctx;
  const second = sibling();
  ctx.log(`starting a second 3-broker cluster: ${second.label}`);
  const postCluster = await env.startSiblingCluster(second.flags, second.bin);
  const sides: Side[] = [];
  try {
    for (const cluster of [env.cluster, postCluster]) {
      const url = (await cluster.waitForLeader()).broker.url;
      await ensureTopic(url, SINGLE_TOPIC, env.settings.partitions, env.connection);
      await ensureTopic(url, BATCH_TOPIC, env.settings.partitions, env.connection);
      sides.push({
        cluster,
        single: await openConnections(url, SINGLE_CLIENTS, env.connection),
        batch: await openConnections(url, BATCH_CLIENTS, env.connection),
        figures: { single: [], batch: [], one: [] },
      });
    }
    const singleBodies = Array.from({ length: SINGLE_CLIENTS }, (_, w) => produceBody(SINGLE_TOPIC, w));
    const batchText = batchBody(BATCH_TOPIC, BATCH);
    // `clients` 1: one producer waiting for each commit, where a round trip saved shows (pipelining).
    const single = async (side: Side, ms: number, record: boolean, clients = SINGLE_CLIENTS) => {
      const lat: number[] = [];
      const cpu = cpuMeter(side.cluster.brokers.map((b) => b.pid));
      const elapsed = await runFor(ms, clients, async (w) => {
        const t = performance.now();
        const r = await side.single[w]!.request('POST', '/produce', singleBodies[w]!);
        lat.push(performance.now() - t);
        expectOk(r.status, r.body, 'POST /produce');
      });
      const cpuMs = cpu();
      if (record) side.figures[clients === 1 ? 'one' : 'single'].push(figures(lat.length, elapsed, cpuMs, percentile(lat, 50)));
    };
    const batch = async (side: Side, ms: number, record: boolean) => {
      let requests = 0;
      const cpu = cpuMeter(side.cluster.brokers.map((b) => b.pid));
      const elapsed = await runFor(ms, BATCH_CLIENTS, async (w) => {
        const r = await side.batch[w]!.request('POST', '/produce/batch', batchText);
        expectOk(r.status, r.body, 'POST /produce/batch');
        requests++;
      });
      const cpuMs = cpu();
      if (record) side.figures.batch.push(figures(requests * BATCH, elapsed, cpuMs, null));
    };
    const warm = Math.min(1500, options.roundMs);
    for (const side of sides) {
      await single(side, warm, false);
      await batch(side, warm, false);
    }
    await alternate(options.rounds, [() => single(sides[0]!, options.roundMs, true), () => single(sides[1]!, options.roundMs, true)]);
    if (!process.env.YAK_BENCH_TRANSPORT_SINGLE_ONLY) {
      await alternate(options.rounds, [() => batch(sides[0]!, options.roundMs, true), () => batch(sides[1]!, options.roundMs, true)]);
      await alternate(options.rounds, [() => single(sides[0]!, options.roundMs, true, 1), () => single(sides[1]!, options.roundMs, true, 1)]);
    }
  } finally {
    for (const s of sides) {
      closeAll(s.single);
      closeAll(s.batch);
    }
    await postCluster.stop();
  }
  const [stream, post] = sides as [Side, Side];
  const rates = (list: Figures[]) => list.map((f) => Math.round(f.rate ?? 0)).join(', ');
  ctx.log(`transport: single produce stream ${rates(stream.figures.single)}, POST ${rates(post.figures.single)} records/s; batch stream ${rates(stream.figures.batch)}, POST ${rates(post.figures.batch)} records/s`);

  const row = (w: 'single' | 'batch' | 'one', k: keyof Figures, figure: string, unit: string, target?: (r: number | null) => Row['target'], notes?: string): Row => {
    const a = stream.figures[w].map((f) => f[k]);
    const b = post.figures[w].map((f) => f[k]);
    const ratio = median(pairedRatios(a, b));
    return {
      id: `transport.${w}.${k === 'rate' ? 'records_per_s' : k === 'cpu' ? 'cpu_us_per_record' : 'p50_ms'}`,
      figure,
      unit,
      yak: median(present(a)),
      comparison: { label: second.label, value: median(present(b)) },
      ratio,
      ...(target ? { target: target(ratio) } : {}),
      rounds: { yak: a, comparison: b },
      ...(notes ? { notes } : {}),
    };
  };
  return [
    row('single', 'rate', 'single produce, replication stream', 'records/s', (r) => ({ text: '≥ 2×', met: r === null ? null : r >= 2 }), 'two 3-broker clusters of this run, rounds interleaved: streams (default) against --replication-stream off'),
    row('single', 'p50', 'single produce p50, replication stream', 'ms'),
    row('single', 'cpu', 'single produce CPU per record, replication stream', 'µs', (r) => ({ text: '≤ 0.5×', met: r === null ? null : r <= 0.5 }), 'all three brokers'),
    row('batch', 'rate', 'batch produce, replication stream', 'records/s', (r) => ({ text: '≥ 1.0× (not worse)', met: r === null ? null : r >= 0.95 }), 'met within 5% (the noise of one round on a shared machine)'),
    row('batch', 'cpu', 'batch produce CPU per record, replication stream', 'µs', (r) => ({ text: '≤ 1.0× (not worse)', met: r === null ? null : r <= 1.05 })),
    row('one', 'rate', 'one producer, replication stream', 'records/s', undefined, 'one client, one POST /produce at a time: each record waits for its commit alone'),
    row('one', 'p50', 'one producer p50, replication stream', 'ms'),
  ];
}

function figures(records: number, elapsedMs: number, cpuMs: number | null, p50: number | null): Figures {
  return {
    rate: records > 0 ? (records * 1000) / elapsedMs : null,
    cpu: records > 0 && cpuMs !== null ? (cpuMs * 1000) / records : null,
    p50,
  };
}
