import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { produceBody, payloadText } from '../payload.js';
import { cpuMeter, redisCpuMs } from '../cpu.js';
import { EchoServer } from '../echo-server.js';
import { HttpConnection } from '../http-conn.js';
import { JetStreamServer, jetStreamMissing } from '../jetstream.js';
import { alternate, runFor } from '../rounds.js';
import { median, pairedRatios, percentile, present } from '../stats.js';
import type { Row } from '../types.js';
import { closeAll, ensureTopic, expectOk, leaderUrl, openConnections, type WorkloadContext } from './context.js';

export const CLIENTS = 32;
const TOPIC = 'bench-single';

interface RoundFigures {
  rate: number | null;
  p50: number | null;
  p99: number | null;
  /** Server CPU per record, µs: all three brokers, or the Redis server. */
  cpu: number | null;
}

/**
 * One record per request, 32 clients each waiting for its answer before sending again. YAK: one
 * keep-alive connection per client, POST /produce, answered once committed on every in-sync
 * replica. Redis: 32 concurrent XADDs on one ioredis connection (how a Node service uses
 * ioredis), no explicit pipeline, each awaited before that client's next one.
 */
export async function singleProduce(ctx: WorkloadContext): Promise<Row[]> {
  const url = await leaderUrl(ctx);
  await ensureTopic(url, TOPIC, ctx.env.settings.partitions, ctx.env.connection);
  const conns = await openConnections(url, CLIENTS, ctx.env.connection);
  const bodies = Array.from({ length: CLIENTS }, (_, w) => produceBody(TOPIC, w));
  const values = Array.from({ length: CLIENTS }, (_, w) => payloadText(w));
  const redis = ctx.env.redis;
  // Also 32 connections, one per client: Redis then reads and answers each connection separately,
  // as the broker must for its 32 HTTP connections (one connection lets Redis batch the 32 in flight).
  const perClient = Array.from({ length: CLIENTS }, () => ctx.env.connectRedis());
  const yak: RoundFigures[] = [];
  const xadd: RoundFigures[] = [];
  const xaddConns: RoundFigures[] = [];
  const echo: RoundFigures[] = [];
  const jet: RoundFigures[] = [];
  // The node:http ceiling: the same client and connections against a server that only answers.
  const echoServer = await EchoServer.start();
  const echoConns = await Promise.all(Array.from({ length: CLIENTS }, () => HttpConnection.open(echoServer.url)));
  const natsMissing = jetStreamMissing();
  const nats = natsMissing === null ? await JetStreamServer.start() : null;

  const pids = ctx.env.cluster.brokers.map((b) => b.pid);
  const yakRound = async (ms: number, into?: RoundFigures[]) => {
    const lat: number[] = [];
    const cpu = cpuMeter(pids);
    const elapsed = await runFor(ms, CLIENTS, async (w) => {
      const t = performance.now();
      const r = await conns[w]!.request('POST', '/produce', bodies[w]!);
      lat.push(performance.now() - t);
      expectOk(r.status, r.body, 'POST /produce');
    });
    into?.push(figures(lat, elapsed, cpu()));
  };
  const redisRound = async (ms: number, into?: RoundFigures[], connections?: Redis[]) => {
    const lat: number[] = [];
    const cpuBefore = await redisCpuMs(redis);
    const elapsed = await runFor(ms, CLIENTS, async (w) => {
      const t = performance.now();
      await (connections?.[w] ?? redis).xadd(`bench:single:${w % 3}`, '*', 'payload', values[w]!);
      lat.push(performance.now() - t);
    });
    const cpuAfter = await redisCpuMs(redis);
    into?.push(figures(lat, elapsed, cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore));
    await redis.del('bench:single:0', 'bench:single:1', 'bench:single:2');
  };

  const echoRound = async (ms: number, into?: RoundFigures[]) => {
    const lat: number[] = [];
    const cpu = cpuMeter([echoServer.pid]);
    const elapsed = await runFor(ms, CLIENTS, async (w) => {
      const t = performance.now();
      const r = await echoConns[w]!.request('POST', '/produce', bodies[w]!);
      lat.push(performance.now() - t);
      expectOk(r.status, r.body, 'POST to the echo server');
    });
    into?.push(figures(lat, elapsed, cpu()));
  };
  const jetRound = async (ms: number, into?: RoundFigures[]) => {
    if (!nats) return;
    const lat: number[] = [];
    const cpu = cpuMeter([nats.pid]);
    const elapsed = await runFor(ms, CLIENTS, async (w) => {
      const t = performance.now();
      await nats.js.publish(`bench.single.${w % 3}`, values[w]!);
      lat.push(performance.now() - t);
    });
    into?.push(figures(lat, elapsed, cpu()));
  };

  try {
    // Unmeasured first: V8 compiles the hot paths of the brokers and of this client during it.
    const warm = Math.min(1500, ctx.options.roundMs);
    await yakRound(warm);
    await redisRound(warm);
    await redisRound(warm, undefined, perClient);
    await echoRound(warm);
    await jetRound(warm);
    await alternate(ctx.options.rounds, [
      () => yakRound(ctx.options.roundMs, yak),
      () => redisRound(ctx.options.roundMs, xadd),
      () => redisRound(ctx.options.roundMs, xaddConns, perClient),
      () => echoRound(ctx.options.roundMs, echo),
      ...(nats ? [() => jetRound(ctx.options.roundMs, jet)] : []),
    ]);
  } finally {
    closeAll(conns);
    closeAll(echoConns);
    for (const r of perClient) r.disconnect();
    await echoServer.stop();
    await nats?.stop();
  }
  const rates = (list: RoundFigures[]) => list.map((f) => Math.round(f.rate ?? 0)).join(', ');
  ctx.log(`single produce: YAK ${rates(yak)} records/s; XADD ${rates(xadd)} ops/s; XADD on 32 connections ${rates(xaddConns)} ops/s; node:http echo ${rates(echo)} requests/s${nats ? `; JetStream ${rates(jet)} publishes/s` : ''}`);

  const pick = (list: RoundFigures[], k: keyof RoundFigures) => list.map((f) => f[k]);
  const row = (k: keyof RoundFigures, figure: string, unit: string, label: string, target?: (ratio: number | null) => Row['target'], against = xadd): Row => {
    const a = pick(yak, k);
    const b = pick(against, k);
    const ratio = median(pairedRatios(a, b));
    return {
      id: `single.${k === 'rate' ? 'records_per_s' : k === 'cpu' ? 'cpu_us_per_record' : `${k}_ms`}${against === xadd ? '' : against === xaddConns ? '_vs_32_connections' : against === echo ? '_vs_http_ceiling' : '_vs_jetstream'}`,
      figure,
      unit,
      yak: median(present(a)),
      comparison: { label, value: median(present(b)) },
      ratio,
      ...(target ? { target: target(ratio) } : {}),
      rounds: { yak: a, comparison: b },
    };
  };
  return [
    row('rate', 'single produce (32 clients)', 'records/s', 'XADD, 32 concurrent', (r) => ({ text: '≥ 0.5×', met: r === null ? null : r >= 0.5 })),
    row('p50', 'single produce p50', 'ms', 'XADD p50'),
    row('p99', 'single produce p99', 'ms', 'XADD p99'),
    row('rate', 'single produce, other Redis setup', 'records/s', 'XADD, 32 connections', undefined, xaddConns),
    { ...row('cpu', 'single produce: server CPU per record', 'µs', 'Redis server per XADD'), notes: 'all three brokers together (leader + 2 followers) against the one Redis server; CPU time from /proc and INFO cpu' },
    {
      ...row('rate', 'single produce vs the node:http ceiling', 'records/s', 'node:http echo server, same client', undefined, echo),
      notes: 'a node:http process that only reads each request and answers its body back, measured with the same client and 32 connections: how much of what node:http can do on this machine YAK reaches',
    },
    { ...row('cpu', 'node:http ceiling: server CPU per request', 'µs', 'echo server per request', undefined, echo), notes: 'YAK: all three brokers per record; the echo server: its one process per request' },
    ...(nats
      ? [
          { ...row('rate', 'single produce vs NATS JetStream', 'records/s', 'JetStream acked publish, 32 in flight', undefined, jet), notes: 'nats-server -js, file storage, one replica (no peers), the `nats` client; each publish awaited until stored (PubAck)' },
          { ...row('cpu', 'single produce vs JetStream: server CPU per record', 'µs', 'nats-server per publish', undefined, jet) },
        ]
      : [jetStreamSkipped(natsMissing!)]),
  ];
}

function figures(lat: number[], elapsedMs: number, cpuMs: number | null): RoundFigures {
  const n = lat.length;
  return {
    rate: n > 0 ? (n * 1000) / elapsedMs : null,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    cpu: n > 0 && cpuMs !== null ? (cpuMs * 1000) / n : null,
  };
}

/** NATS JetStream runs only where nats-server is installed (the `nats` client is a devDependency). */
function jetStreamSkipped(reason: string): Row {
  return {
    id: 'single.records_per_s_vs_jetstream',
    figure: 'single produce vs NATS JetStream',
    unit: 'records/s',
    yak: null,
    comparison: { label: 'JetStream acked publish, 32 in flight', value: null },
    ratio: null,
    skipped: reason,
  };
}
