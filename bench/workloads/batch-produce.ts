import type { Redis } from 'ioredis';
import { cpuMeter, redisCpuMs } from '../cpu.js';
import { RssSampler, rssBytes } from '../memory.js';
import { PAYLOAD_BYTES, batchBody, payloadText } from '../payload.js';
import { alternate, runFor } from '../rounds.js';
import { max, median, pairedRatios, present } from '../stats.js';
import type { Row } from '../types.js';
import { closeAll, ensureTopic, expectOk, openConnections, type WorkloadContext } from './context.js';
import { diskAppend, encodedBatch } from './disk.js';

export const CLIENTS = 4;
export const BATCH = 1000;
const TOPIC = 'bench-batch';
const MEMORY_TARGET_MB = 150;

/**
 * POST /produce/batch of 1,000 records from 4 clients at once, against XADD pipelined in groups of
 * 1,000 (4 pipelines in flight). Beside them, in the same rounds: the raw disk taking the same
 * bytes the leader stores, under the brokers' fsync policy, and the RSS of every broker.
 */
export async function batchProduce(ctx: WorkloadContext): Promise<Row[]> {
  const { env, options } = ctx;
  const leader = (await env.cluster.waitForLeader()).broker;
  await ensureTopic(leader.url, TOPIC, env.settings.partitions, env.connection);
  const conns = await openConnections(leader.url, CLIENTS, env.connection);
  const body = batchBody(TOPIC, BATCH);
  const stored = encodedBatch(BATCH);
  const storedPerRecord = stored.length / BATCH;
  const yak: (number | null)[] = [];
  const xadd: (number | null)[] = [];
  const disk: (number | null)[] = [];
  const yakCpu: (number | null)[] = [];
  const redisCpu: (number | null)[] = [];
  const leaderPeaks: number[] = [];
  const anyPeaks: number[] = [];

  const yakRound = async (ms: number, record: boolean) => {
    const pids = env.cluster.brokers.map((b) => b.pid).filter((p): p is number => p !== undefined);
    const sampler = new RssSampler(pids);
    const cpu = cpuMeter(pids);
    let records = 0;
    const elapsed = await runFor(ms, CLIENTS, async (w) => {
      const r = await conns[w]!.request('POST', '/produce/batch', body);
      expectOk(r.status, r.body, 'POST /produce/batch');
      records += BATCH;
    });
    const peaks = sampler.stop();
    const cpuMs = cpu();
    if (!record) return;
    yak.push((records * 1000) / elapsed);
    yakCpu.push(cpuMs === null ? null : (cpuMs * 1000) / records);
    if (leader.pid !== undefined) leaderPeaks.push(peaks.get(leader.pid) ?? 0);
    anyPeaks.push(Math.max(0, ...peaks.values()));
  };
  const redisRound = async (ms: number, record: boolean) => {
    const { rate, cpuUsPerRecord } = await pipelinedXadd(env.redis, ms);
    if (!record) return;
    xadd.push(rate);
    redisCpu.push(cpuUsPerRecord);
  };
  const diskRound = async () => {
    disk.push(await diskAppend(env.cluster.dir, stored, options.diskBytes, options.fsync, options.fsyncIntervalMs));
  };

  try {
    // Unmeasured first: V8 compiles the hot paths of the brokers and of this client during it.
    const warm = Math.min(1500, options.roundMs);
    await yakRound(warm, false);
    await redisRound(warm, false);
    await alternate(options.rounds, [() => yakRound(options.roundMs, true), () => redisRound(options.roundMs, true), diskRound]);
  } finally {
    closeAll(conns);
  }
  const hwm = leader.pid !== undefined ? rssBytes(leader.pid, 'VmHWM') : null;
  ctx.log(`batch produce: YAK ${yak.map((v) => Math.round(v ?? 0)).join(', ')} records/s; XADD ${xadd.map((v) => Math.round(v ?? 0)).join(', ')}; disk ${disk.map((v) => Math.round(v ?? 0)).join(', ')} MB/s`);

  const mb = (list: (number | null)[], perRecord: number) => list.map((v) => (v === null ? null : (v * perRecord) / 1e6));
  const ratio = median(pairedRatios(yak, xadd));
  const yakStored = mb(yak, storedPerRecord);
  const peakMb = max(leaderPeaks.map((b) => b / 2 ** 20));
  return [
    {
      id: 'batch.records_per_s',
      figure: 'batch produce (4 × 1,000)',
      unit: 'records/s',
      yak: median(present(yak)),
      comparison: { label: 'XADD pipelined × 1,000', value: median(present(xadd)) },
      ratio,
      target: { text: '≥ 1.0×', met: ratio === null ? null : ratio >= 1 },
      rounds: { yak, comparison: xadd },
    },
    {
      id: 'batch.mb_per_s',
      figure: 'batch produce payload',
      unit: 'MB/s',
      yak: median(present(mb(yak, PAYLOAD_BYTES))),
      comparison: { label: 'XADD pipelined × 1,000', value: median(present(mb(xadd, PAYLOAD_BYTES))) },
      ratio,
      rounds: { yak: mb(yak, PAYLOAD_BYTES), comparison: mb(xadd, PAYLOAD_BYTES) },
      notes: `${PAYLOAD_BYTES}-byte payloads; MB = 10^6 bytes`,
    },
    {
      id: 'batch.cpu_us_per_record',
      figure: 'batch produce: server CPU per record',
      unit: 'µs',
      yak: median(present(yakCpu)),
      comparison: { label: 'Redis server per XADD', value: median(present(redisCpu)) },
      ratio: median(pairedRatios(yakCpu, redisCpu)),
      rounds: { yak: yakCpu, comparison: redisCpu },
      notes: 'all three brokers together (leader + 2 followers) against the one Redis server',
    },
    {
      id: 'disk.mb_per_s',
      figure: 'disk: bytes the leader stores',
      unit: 'MB/s',
      yak: median(present(yakStored)),
      comparison: { label: `raw append, fsync ${options.fsync}`, value: median(present(disk)) },
      ratio: median(pairedRatios(yakStored, disk)),
      rounds: { yak: yakStored, comparison: disk },
      notes: `YAK: batch records/s × ${storedPerRecord} stored bytes per record; disk: the same encoded bytes appended ${options.diskBytes / 2 ** 20} MiB per round`,
    },
    {
      id: 'memory.leader_peak_rss_mb',
      figure: 'leader peak RSS in batch run',
      unit: 'MB',
      yak: peakMb,
      comparison: null,
      ratio: null,
      target: { text: `< ${MEMORY_TARGET_MB} MB`, met: peakMb === null ? null : peakMb < MEMORY_TARGET_MB },
      rounds: { yak: leaderPeaks.map((b) => b / 2 ** 20) },
      notes: `MB = MiB; sampled VmRSS every 50 ms (peak over rounds); leader VmHWM since start ${hwm === null ? 'n/a' : (hwm / 2 ** 20).toFixed(1)}; any broker's peak ${(Math.max(0, ...anyPeaks) / 2 ** 20).toFixed(1)}`,
    },
  ];
}

/** 4 workers, each sending 1,000 XADDs as one pipeline and waiting for it; answers records/s and server CPU µs per record. */
export async function pipelinedXadd(redis: Redis, ms: number): Promise<{ rate: number; cpuUsPerRecord: number | null }> {
  const values = Array.from({ length: BATCH }, (_, i) => payloadText(i));
  let records = 0;
  const cpuBefore = await redisCpuMs(redis);
  const elapsed = await runFor(ms, CLIENTS, async () => {
    const p = redis.pipeline();
    for (let i = 0; i < BATCH; i++) p.xadd(`bench:batch:${i % 3}`, '*', 'payload', values[i]!);
    const results = await p.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
    records += BATCH;
  });
  const cpuAfter = await redisCpuMs(redis);
  await redis.del('bench:batch:0', 'bench:batch:1', 'bench:batch:2');
  const cpuUsPerRecord = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / records;
  return { rate: (records * 1000) / elapsed, cpuUsPerRecord };
}
