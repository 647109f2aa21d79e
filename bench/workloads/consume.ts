import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { ConnectionSecurity, HttpConnection } from '../http-conn.js';
import { batchBody, payloadText } from '../payload.js';
import { cpuMeter, redisCpuMs } from '../cpu.js';
import { JetStreamServer, jetStreamMissing } from '../jetstream.js';
import { alternate } from '../rounds.js';
import { median, pairedRatios, present } from '../stats.js';
import type { Row } from '../types.js';
import { closeAll, ensureTopic, expectOk, leaderUrl, openConnections, type WorkloadContext } from './context.js';

const TOPIC = 'bench-consume';
const MAX = 10_000;
const FILL_BATCH = 1000;

interface ConsumeAnswer {
  records: { offset: number; payload: unknown }[];
  next_offset: number;
}

/**
 * Everything read back from offset 0, one reader per partition (3 at once), `max` 10,000 per
 * request, against XRANGE … COUNT 10000 over three streams holding the same records. Both sides
 * end with parsed payload objects: YAK's answer is parsed as JSON, each Redis entry's payload too.
 */
export async function consume(ctx: WorkloadContext): Promise<Row[]> {
  const { env, options } = ctx;
  const url = await leaderUrl(ctx);
  const partitions = env.settings.partitions;
  const total = Math.ceil(options.consumeRecords / FILL_BATCH) * FILL_BATCH;
  await ensureTopic(url, TOPIC, partitions, env.connection);
  const ends = await fillYak(url, total, partitions, env.connection);
  await fillRedis(env.redis, total, partitions);
  const conns = await openConnections(url, partitions, env.connection);
  const yak: (number | null)[] = [];
  const xrange: (number | null)[] = [];
  const jet: (number | null)[] = [];
  // JetStream beside them where nats-server is installed: the same records on 3 subjects, read back
  // by 3 ordered consumers at once, each payload JSON.parsed.
  const natsMissing = jetStreamMissing();
  const nats = natsMissing === null ? await JetStreamServer.start() : null;
  const perSubject = ends.map(() => Math.floor(total / partitions));
  perSubject[0]! += total - perSubject.reduce((a, b) => a + b, 0);
  if (nats) await Promise.all(perSubject.map((n, p) => nats.fill(`bench.consume.${p}`, n, payloadText)));
  const jetRound = async (record: boolean) => {
    if (!nats) return;
    const start = performance.now();
    const rates = await Promise.all(perSubject.map((n, p) => nats.consume(`bench.consume.${p}`, n)));
    const elapsed = performance.now() - start;
    if (rates.length !== partitions) throw new Error('JetStream consume did not finish');
    if (record) jet.push((total * 1000) / elapsed);
  };

  const yakCpu: (number | null)[] = [];
  const redisCpu: (number | null)[] = [];
  const leaderPid = (await env.cluster.waitForLeader()).broker.pid;
  const yakRound = async (record: boolean) => {
    const cpu = cpuMeter([leaderPid]);
    const start = performance.now();
    const counts = await Promise.all(ends.map((end, p) => readPartition(conns[p]!, p, end)));
    const elapsed = performance.now() - start;
    const cpuMs = cpu();
    const n = counts.reduce((a, b) => a + b, 0);
    if (n !== total) throw new Error(`consume read ${n} records, expected ${total}`);
    if (!record) return;
    yak.push((n * 1000) / elapsed);
    yakCpu.push(cpuMs === null ? null : (cpuMs * 1000) / n);
  };
  const redisRound = async (record: boolean) => {
    const cpuBefore = await redisCpuMs(env.redis);
    const start = performance.now();
    const counts = await Promise.all(ends.map((_, p) => readStream(env.redis, `bench:consume:${p}`)));
    const elapsed = performance.now() - start;
    const cpuAfter = await redisCpuMs(env.redis);
    const n = counts.reduce((a, b) => a + b, 0);
    if (n !== total) throw new Error(`XRANGE read ${n} entries, expected ${total}`);
    if (!record) return;
    xrange.push((n * 1000) / elapsed);
    redisCpu.push(cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / n);
  };

  try {
    await yakRound(false);
    await redisRound(false);
    await jetRound(false);
    await alternate(options.rounds, [() => yakRound(true), () => redisRound(true), ...(nats ? [() => jetRound(true)] : [])]);
  } finally {
    closeAll(conns);
    await env.redis.del(...ends.map((_, p) => `bench:consume:${p}`));
    await nats?.stop();
  }
  ctx.log(`consume: YAK ${yak.map((v) => Math.round(v ?? 0)).join(', ')} records/s; XRANGE ${xrange.map((v) => Math.round(v ?? 0)).join(', ')}`);
  const ratio = median(pairedRatios(yak, xrange));
  return [
    {
      id: 'consume.records_per_s',
      figure: `consume ${total.toLocaleString('en')} from 0`,
      unit: 'records/s',
      yak: median(present(yak)),
      comparison: { label: 'XRANGE COUNT 10000', value: median(present(xrange)) },
      ratio,
      target: { text: '≥ 1.0×', met: ratio === null ? null : ratio >= 1 },
      rounds: { yak, comparison: xrange },
      notes: 'one reader per partition/stream, 3 at once, from the leader',
    },
    {
      id: 'consume.cpu_us_per_record',
      figure: 'consume: server CPU per record',
      unit: 'µs',
      yak: median(present(yakCpu)),
      comparison: { label: 'Redis server per entry', value: median(present(redisCpu)) },
      ratio: median(pairedRatios(yakCpu, redisCpu)),
      rounds: { yak: yakCpu, comparison: redisCpu },
      notes: 'the leader (it serves the reads) against the Redis server',
    },
    nats
      ? {
          id: 'consume.records_per_s_vs_jetstream',
          figure: `consume ${total.toLocaleString('en')} from 0 vs JetStream`,
          unit: 'records/s',
          yak: median(present(yak)),
          comparison: { label: 'JetStream ordered consumers', value: median(present(jet)) },
          ratio: median(pairedRatios(yak, jet)),
          rounds: { yak, comparison: jet },
          notes: 'the same records on 3 subjects of one JetStream stream (file storage), read from the start by 3 ordered consumers at once (the `nats` client), each payload JSON.parsed',
        }
      : {
          id: 'consume.records_per_s_vs_jetstream',
          figure: `consume ${total.toLocaleString('en')} from 0 vs JetStream`,
          unit: 'records/s',
          yak: null,
          comparison: { label: 'JetStream ordered consumers', value: null },
          ratio: null,
          skipped: natsMissing!,
        },
  ];
}

/** Fills the topic to `total` records (4 batches in flight); answers each partition's high-water mark. */
async function fillYak(url: string, total: number, partitions: number, security: ConnectionSecurity): Promise<number[]> {
  const conns = await openConnections(url, 4, security);
  const body = batchBody(TOPIC, FILL_BATCH);
  let sent = 0;
  try {
    await Promise.all(
      conns.map(async (c) => {
        while (sent < total) {
          sent += FILL_BATCH;
          const r = await c.request('POST', '/produce/batch', body);
          expectOk(r.status, r.body, 'filling the consume topic');
        }
      }),
    );
    const r = await conns[0]!.request('GET', '/topics');
    const topics = JSON.parse(r.body.toString('utf8')) as { topics: { name: string; partitions: { partition: number; high_watermark: number }[] }[] };
    const t = topics.topics.find((x) => x.name === TOPIC);
    if (!t || t.partitions.length !== partitions) throw new Error(`topic ${TOPIC} not found after filling it`);
    return t.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.high_watermark);
  } finally {
    closeAll(conns);
  }
}

export async function fillRedis(redis: Redis, total: number, partitions: number): Promise<void> {
  const values = Array.from({ length: FILL_BATCH }, (_, i) => payloadText(i));
  for (let done = 0; done < total; done += FILL_BATCH) {
    const p = redis.pipeline();
    for (let i = 0; i < FILL_BATCH; i++) p.xadd(`bench:consume:${(done + i) % partitions}`, '*', 'payload', values[i]!);
    await p.exec();
  }
}

async function readPartition(conn: HttpConnection, partition: number, end: number): Promise<number> {
  let offset = 0;
  let n = 0;
  while (offset < end) {
    const r = await conn.request('GET', `/consume?topic=${TOPIC}&partition=${partition}&offset=${offset}&max=${MAX}`);
    expectOk(r.status, r.body, 'GET /consume');
    const answer = JSON.parse(r.body.toString('utf8')) as ConsumeAnswer;
    if (answer.next_offset <= offset) throw new Error(`consume made no progress at offset ${offset} of ${end}`);
    n += answer.records.length;
    offset = answer.next_offset;
  }
  return n;
}

export async function readStream(redis: Redis, key: string): Promise<number> {
  let start = '-';
  let n = 0;
  for (;;) {
    const entries = await redis.xrange(key, start, '+', 'COUNT', MAX);
    for (const [, fields] of entries) JSON.parse(fields[1]!);
    n += entries.length;
    if (entries.length < MAX) return n;
    start = `(${entries[entries.length - 1]![0]}`;
  }
}
