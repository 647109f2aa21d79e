import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { decodeBatches, encodeBatch } from '../../broker-runtime/src/kafka/protocol/record-batch.js';
import type { Reader } from '../../broker-runtime/src/kafka/protocol/reader.js';
import { Writer } from '../../broker-runtime/src/kafka/protocol/writer.js';
import { fetchAnswer, fetchBody, produceAnswer, produceBody } from '../../testkit/kafka-wire.js';
import { tempDir } from '../../testkit/temp-dir.js';
import { cpuMeter, redisCpuMs } from '../cpu.js';
import { KafkaConnection } from '../kafka-conn.js';
import { KAFKAJS_BATCH_SENDERS, KAFKAJS_SINGLE_SENDERS, KafkajsProducer, type KafkajsRound } from '../kafkajs-producer.js';
import { NullKafkaBroker } from '../null-kafka-broker.js';
import { payloadText } from '../payload.js';
import { alternate, runFor } from '../rounds.js';
import { median, pairedRatios, present } from '../stats.js';
import type { Row } from '../types.js';
import { pipelinedXadd } from './batch-produce.js';
import { readStream } from './consume.js';
import { ensureTopic, type WorkloadContext } from './context.js';

const TOPIC = 'bench-kafka';
const CLIENTS = 4;
const BATCH = 1000;

/**
 * The Kafka protocol beside the REST and Redis rows: Produce v3 of 1,000-record batches (100-byte
 * JSON values, acks=all: answered once committed to every in-sync replica) from 4 pipelined
 * connections, one batch in flight each, against XADD pipelined in groups of 1,000 (4 pipelines);
 * then Fetch v4 (1 MiB per partition per request) reading records back from offset 0 — the next
 * Fetch prefetched as librdkafka does, then decoded and each value JSON-parsed, as a consumer
 * would; once cold, then re-reading — against XRANGE COUNT 10000 over three streams
 * holding as many records. The client is raw wire (bench/kafka-conn.ts), not KafkaJS: on two
 * shared cores a client's own CPU would be most of what is measured.
 */
export async function kafkaWorkload(ctx: WorkloadContext): Promise<Row[]> {
  const { env, options } = ctx;
  const leader = (await env.cluster.waitForLeader()).broker;
  const port = env.cluster.kafkaPorts.get(leader.id);
  if (port === undefined) throw new Error('the bench cluster has no Kafka listener');
  const partitions = env.settings.partitions;
  await ensureTopic(leader.url, TOPIC, partitions, env.connection);
  const now = Date.now();
  const bodies = Array.from({ length: partitions }, (_, p) =>
    produceBody(TOPIC, p, encodeBatch(Array.from({ length: BATCH }, (_, i) => ({ offset: i, timestamp: now, key: null, value: Buffer.from(payloadText(i)), headers: [] })), 0).toBuffer()),
  );
  const conns = await Promise.all(Array.from({ length: CLIENTS }, () => KafkaConnection.open(port, env.connection)));
  const pids = env.cluster.brokers.map((b) => b.pid);

  const produced: (number | null)[] = [];
  const xadd: (number | null)[] = [];
  const produceCpu: (number | null)[] = [];
  const xaddCpu: (number | null)[] = [];
  let next = 0;
  const produceRound = async (ms: number, record: boolean) => {
    const cpu = cpuMeter(pids);
    let records = 0;
    const elapsed = await runFor(ms, CLIENTS, async (w) => {
      const answer = produceAnswer(await conns[w]!.request(0, 3, bodies[next++ % partitions]!));
      if (answer.error !== 0) throw new Error(`Kafka produce answered error ${answer.error}`);
      records += BATCH;
    });
    const cpuMs = cpu();
    if (!record) return;
    produced.push((records * 1000) / elapsed);
    produceCpu.push(cpuMs === null ? null : (cpuMs * 1000) / records);
  };
  const xaddRound = async (ms: number, record: boolean) => {
    const { rate, cpuUsPerRecord } = await pipelinedXadd(env.redis, ms);
    if (!record) return;
    xadd.push(rate);
    xaddCpu.push(cpuUsPerRecord);
  };

  // KafkaJS, batched (1,000 records per send, 4 sends in flight) and one record per send (32 in
  // flight), in the same rounds as the raw-wire produce and XADD, so each ratio pairs neighbours.
  const kafkajs = await KafkajsProducer.connect(env.cluster.bootstrap(), env.connection, TOPIC, partitions, BATCH).catch((err: unknown) => {
    for (const c of conns) c.close();
    throw err;
  });
  // Its ceiling: the same KafkaJS workload against a null Kafka broker (its own process, answering
  // at once and discarding the records), in the same rounds. Plain TCP only: under --auth/--tls the
  // ceiling rows are skipped rather than compared with a broker that does neither.
  const plain = !env.connection.token && !env.connection.ca;
  let nullBroker: NullKafkaBroker | null = null;
  let ceiling: KafkajsProducer | null = null;
  try {
    if (plain) {
      nullBroker = await NullKafkaBroker.start(partitions);
      ceiling = await KafkajsProducer.connect(nullBroker.bootstrap, {}, TOPIC, partitions, BATCH);
    }
  } catch (err) {
    for (const c of conns) c.close();
    await kafkajs.close();
    await nullBroker?.stop();
    throw err;
  }
  const kjsBatch: (KafkajsRound | null)[] = [];
  const kjsSingle: (KafkajsRound | null)[] = [];
  const ceilBatch: (KafkajsRound | null)[] = [];
  const ceilSingle: (KafkajsRound | null)[] = [];
  const kafkajsRound = (into: (KafkajsRound | null)[], senders: number, perSend: number, producer = kafkajs, serverPids = pids) => async (ms: number, record: boolean) => {
    const r = await producer.round(ms, serverPids, senders, perSend);
    if (record) into.push(r);
  };
  const kjsBatchRound = kafkajsRound(kjsBatch, KAFKAJS_BATCH_SENDERS, BATCH);
  const kjsSingleRound = kafkajsRound(kjsSingle, KAFKAJS_SINGLE_SENDERS, 1);
  const ceilingRounds = ceiling && nullBroker ? [kafkajsRound(ceilBatch, KAFKAJS_BATCH_SENDERS, BATCH, ceiling, [nullBroker.pid]), kafkajsRound(ceilSingle, KAFKAJS_SINGLE_SENDERS, 1, ceiling, [nullBroker.pid])] : [];

  let kcatRows: Row[] = [];
  const fetched: (number | null)[] = [];
  const xrange: (number | null)[] = [];
  const fetchCpu: (number | null)[] = [];
  const xrangeCpu: (number | null)[] = [];
  const cold = { rate: null as number | null, cpu: null as number | null };
  const perPartition = Math.ceil(options.consumeRecords / partitions);
  // The first read of the records is cold (nothing in the broker's cache of encoded batches,
  // apis/fetch-cache.ts); the measured rounds read the same records again, as a second consumer
  // group or a replay would.
  const fetchRound = async (record: boolean) => {
    const cpu = cpuMeter([leader.pid]);
    const start = performance.now();
    const counts = await Promise.all(Array.from({ length: partitions }, (_, p) => readPartition(conns[p % CLIENTS]!, p, perPartition)));
    const elapsed = performance.now() - start;
    const cpuMs = cpu();
    const n = counts.reduce((a, b) => a + b, 0);
    const rate = (n * 1000) / elapsed;
    const cpuUs = cpuMs === null ? null : (cpuMs * 1000) / n;
    if (!record) {
      cold.rate ??= rate;
      cold.cpu ??= cpuUs;
      return;
    }
    fetched.push(rate);
    fetchCpu.push(cpuUs);
  };
  const xrangeRound = async (record: boolean) => {
    const cpuBefore = await redisCpuMs(env.redis);
    const start = performance.now();
    const counts = await Promise.all(Array.from({ length: partitions }, (_, p) => readStream(env.redis, `bench:kafka:${p}`)));
    const elapsed = performance.now() - start;
    const cpuAfter = await redisCpuMs(env.redis);
    const n = counts.reduce((a, b) => a + b, 0);
    if (!record) return;
    xrange.push((n * 1000) / elapsed);
    xrangeCpu.push(cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / n);
  };

  try {
    const warm = Math.min(1500, options.roundMs);
    await produceRound(warm, false);
    await xaddRound(warm, false);
    await kjsBatchRound(warm, false);
    await kjsSingleRound(warm, false);
    for (const r of ceilingRounds) await r(warm, false);
    await alternate(options.rounds, [
      () => produceRound(options.roundMs, true),
      () => xaddRound(options.roundMs, true),
      () => kjsBatchRound(options.roundMs, true),
      () => kjsSingleRound(options.roundMs, true),
      ...ceilingRounds.map((r) => () => r(options.roundMs, true)),
    ]);
    // Enough records in every partition for the reads (the produce rounds spread batches evenly).
    while (Math.min(...(await highWatermarks(conns[0]!, partitions))) < perPartition) await produceRound(500, false);
    await fillStreams(env.redis, perPartition, partitions);
    // V8 compiles the Fetch path (the broker's and this client's) on a read of other records first,
    // 10,000 offsets past every one the measured reads ask for (their last 1 MiB answer reaches past
    // their end, never that far), so none of theirs gets cached: the first read then measures the
    // cold cache, not the compiler. Skipped when the partitions hold no records that far out.
    const ends = await highWatermarks(conns[0]!, partitions);
    const warmFrom = perPartition + 10_001;
    await Promise.all(ends.map((end, p) => (end > warmFrom ? readPartition(conns[p % CLIENTS]!, p, Math.min(end, warmFrom + 20_000), warmFrom) : 0)));
    await fetchRound(false);
    await xrangeRound(false);
    await alternate(options.rounds, [() => fetchRound(true), () => xrangeRound(true)]);
    kcatRows = await kcatRounds(ctx, median(present(xadd)), median(present(xrange)));
  } finally {
    for (const c of conns) c.close();
    await kafkajs.close();
    await ceiling?.close();
    await nullBroker?.stop();
    await env.redis.del(...Array.from({ length: partitions }, (_, p) => `bench:kafka:${p}`));
  }
  const rates = (rs: (KafkajsRound | null)[]) => rs.map((r) => Math.round(r?.rate ?? 0)).join(', ');
  ctx.log(`kafkajs: batched ${rates(kjsBatch)} records/s (null broker ${rates(ceilBatch)}); one per send ${rates(kjsSingle)} (null broker ${rates(ceilSingle)})`);
  ctx.log(`kafka: produce ${produced.map((v) => Math.round(v ?? 0)).join(', ')} records/s (XADD ${xadd.map((v) => Math.round(v ?? 0)).join(', ')}); fetch ${fetched.map((v) => Math.round(v ?? 0)).join(', ')} (XRANGE ${xrange.map((v) => Math.round(v ?? 0)).join(', ')})`);
  const produceRatio = median(pairedRatios(produced, xadd));
  const fetchRatio = median(pairedRatios(fetched, xrange));
  return [
    {
      id: 'kafka.produce.records_per_s',
      figure: 'Kafka produce (4 × 1,000, acks=all)',
      unit: 'records/s',
      yak: median(present(produced)),
      comparison: { label: 'XADD pipelined × 1,000', value: median(present(xadd)) },
      ratio: produceRatio,
      target: { text: '≥ 1.0×', met: produceRatio === null ? null : produceRatio >= 1 },
      rounds: { yak: produced, comparison: xadd },
      notes: 'raw-wire Produce v3, RecordBatch v2 of 1,000 100-byte values, one batch in flight per connection',
    },
    {
      id: 'kafka.produce.cpu_us_per_record',
      figure: 'Kafka produce: server CPU per record',
      unit: 'µs',
      yak: median(present(produceCpu)),
      comparison: { label: 'Redis server per XADD', value: median(present(xaddCpu)) },
      ratio: median(pairedRatios(produceCpu, xaddCpu)),
      rounds: { yak: produceCpu, comparison: xaddCpu },
      notes: 'all three brokers together (leader + 2 followers) against the one Redis server',
    },
    {
      id: 'kafka.fetch.records_per_s',
      figure: `Kafka fetch (${partitions} × ${perPartition} from offset 0)`,
      unit: 'records/s',
      yak: median(present(fetched)),
      comparison: { label: 'XRANGE COUNT 10000', value: median(present(xrange)) },
      ratio: fetchRatio,
      target: { text: '≥ 1.0×', met: fetchRatio === null ? null : fetchRatio >= 1 },
      rounds: { yak: fetched, comparison: xrange },
      notes: 'Fetch v4, 1 MiB per partition per request, records read before (the cache of encoded batches warm); both sides JSON-parse every value',
    },
    {
      id: 'kafka.fetch.cpu_us_per_record',
      figure: 'Kafka fetch: leader CPU per record',
      unit: 'µs',
      yak: median(present(fetchCpu)),
      comparison: { label: 'Redis server per XRANGE entry', value: median(present(xrangeCpu)) },
      ratio: median(pairedRatios(fetchCpu, xrangeCpu)),
      rounds: { yak: fetchCpu, comparison: xrangeCpu },
      notes: 'the broker answering the Fetches (the leader) against the one Redis server',
    },
    {
      id: 'kafka.fetch_cold.records_per_s',
      figure: 'Kafka fetch, first read (cold cache)',
      unit: 'records/s',
      yak: cold.rate,
      comparison: { label: 'XRANGE COUNT 10000', value: median(present(xrange)) },
      ratio: cold.rate === null || median(present(xrange)) === null ? null : cold.rate / median(present(xrange))!,
      rounds: { yak: [cold.rate] },
      notes: `one round (the warm-up): every batch encoded from the stored bytes; leader CPU per record ${fmt(cold.cpu)} µs; the comparison is the median of the XRANGE rounds (not paired)`,
    },
    ...kafkajsRows('kafkajs_batch', `KafkaJS produce (${KAFKAJS_BATCH_SENDERS} × send of ${BATCH}, acks=all)`, kjsBatch, xadd, xaddCpu),
    ...kafkajsRows('kafkajs_single', `KafkaJS produce (${KAFKAJS_SINGLE_SENDERS} × send of 1, acks=all)`, kjsSingle, xadd, xaddCpu),
    ...ceilingRows('kafkajs_ceiling', `KafkaJS batched vs its ceiling (${KAFKAJS_BATCH_SENDERS} × send of ${BATCH})`, kjsBatch, ceilBatch, xadd, plain),
    ...ceilingRows('kafkajs_ceiling_single', `KafkaJS one per send vs its ceiling (${KAFKAJS_SINGLE_SENDERS} × send of 1)`, kjsSingle, ceilSingle, xadd, plain),
    ...kcatRows,
  ];
}

/** Records/s against pipelined XADD (paired by round; the target applies to the batched sends) and the brokers' CPU per record. */
function kafkajsRows(id: string, figure: string, rounds: (KafkajsRound | null)[], xadd: (number | null)[], xaddCpu: (number | null)[]): Row[] {
  const rate = rounds.map((r) => r?.rate ?? null);
  const cpu = rounds.map((r) => r?.brokerCpuUs ?? null);
  const client = median(present(rounds.map((r) => r?.clientCpuUs ?? null)));
  const ratio = median(pairedRatios(rate, xadd));
  const batched = id === 'kafkajs_batch';
  return [
    {
      id: `kafka.${id}.records_per_s`,
      figure,
      unit: 'records/s',
      yak: median(present(rate)),
      comparison: { label: 'XADD pipelined × 1,000', value: median(present(xadd)) },
      ratio,
      ...(batched ? { target: { text: '≥ 1.0×', met: ratio === null ? null : ratio >= 1 } } : {}),
      rounds: { yak: rate, comparison: xadd },
      notes: `KafkaJS 2.2.4 in the bench process (not idempotent, no compression); its own CPU ${fmt(client)} µs per record, on the same two cores`,
    },
    {
      id: `kafka.${id}.cpu_us_per_record`,
      figure: `${figure.replace(/ \(.*/, '')}: server CPU per record`,
      unit: 'µs',
      yak: median(present(cpu)),
      comparison: { label: 'Redis server per XADD', value: median(present(xaddCpu)) },
      ratio: median(pairedRatios(cpu, xaddCpu)),
      rounds: { yak: cpu, comparison: xaddCpu },
      notes: 'all three brokers together (leader + 2 followers) against the one Redis server',
    },
  ];
}

/**
 * KafkaJS against YAK beside the same KafkaJS workload against the null Kafka broker
 * (bench/null-kafka-broker.ts), paired by round: records/s (YAK ÷ ceiling: what the broker costs a
 * KafkaJS producer here) and KafkaJS's own CPU per record against each (≈ 1.0×: YAK makes KafkaJS
 * do no work a broker that only answers does not).
 */
function ceilingRows(id: string, figure: string, yak: (KafkajsRound | null)[], ceiling: (KafkajsRound | null)[], xadd: (number | null)[], measured: boolean): Row[] {
  const ids = [`kafka.${id}.records_per_s`, `kafka.${id}.client_cpu_us_per_record`];
  if (!measured) return ids.map((rowId) => ({ id: rowId, figure, unit: '', yak: null, comparison: null, ratio: null, skipped: 'plain TCP only (the null broker has no SASL or TLS)' }));
  const rate = yak.map((r) => r?.rate ?? null);
  const ceil = ceiling.map((r) => r?.rate ?? null);
  const client = yak.map((r) => r?.clientCpuUs ?? null);
  const ceilClient = ceiling.map((r) => r?.clientCpuUs ?? null);
  const nullCpu = median(present(ceiling.map((r) => r?.brokerCpuUs ?? null)));
  return [
    {
      id: ids[0]!,
      figure,
      unit: 'records/s',
      yak: median(present(rate)),
      comparison: { label: 'KafkaJS → null Kafka broker', value: median(present(ceil)) },
      ratio: median(pairedRatios(rate, ceil)),
      rounds: { yak: rate, comparison: ceil },
      notes: `the same KafkaJS workload against a process that answers ApiVersions/Metadata/Produce at once and discards the records (bench/null-kafka-broker.ts; ${fmt(nullCpu)} µs of its CPU per record): what KafkaJS can do on this machine at all; the ceiling itself is ${fmt(median(pairedRatios(ceil, xadd)))}× pipelined XADD (paired by round)`,
    },
    {
      id: ids[1]!,
      figure: `${figure.replace(/ vs its ceiling.*/, '')}: KafkaJS's own CPU per record`,
      unit: 'µs',
      yak: median(present(client)),
      comparison: { label: 'KafkaJS → null Kafka broker', value: median(present(ceilClient)) },
      ratio: median(pairedRatios(client, ceilClient)),
      rounds: { yak: client, comparison: ceilClient },
      notes: 'the bench process (KafkaJS) per record, producing to YAK against producing to the null broker: ≈ 1.0× means YAK makes KafkaJS do no work of its own (no retries, metadata refreshes, errors or costlier answers)',
    },
  ];
}

const KCAT_TOPIC = 'bench-kafka-kcat';

/**
 * kcat (librdkafka), a client nobody here wrote: `-P` from a file of 100-byte lines with acks=all,
 * then `-C -e` reading them all back, each timed from spawn to exit (process start and metadata
 * included, as a user sees it). Compared with the same run's pipelined XADD and XRANGE medians.
 */
async function kcatRounds(ctx: WorkloadContext, xaddRate: number | null, xrangeRate: number | null): Promise<Row[]> {
  const { env, options } = ctx;
  const count = options.consumeRecords;
  const { dir, cleanup } = await tempDir('yak-bench-kcat-');
  try {
    const file = join(dir, 'records.txt');
    await writeFile(file, Array.from({ length: count }, (_, i) => payloadText(i)).join('\n') + '\n');
    const security: string[] = [];
    if (env.connection.token) {
      const [user, ...rest] = env.connection.token.split(':');
      security.push('-X', `security.protocol=${env.connection.ca ? 'SASL_SSL' : 'SASL_PLAINTEXT'}`, '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${rest.join(':')}`);
    } else if (env.connection.ca) {
      security.push('-X', 'security.protocol=SSL');
    }
    if (env.connection.ca) {
      await writeFile(join(dir, 'ca.pem'), env.connection.ca);
      security.push('-X', `ssl.ca.location=${join(dir, 'ca.pem')}`, '-X', 'ssl.endpoint.identification.algorithm=none');
    }
    const base = ['-b', env.cluster.bootstrap().join(','), '-t', KCAT_TOPIC, ...security];
    const produced: number[] = [];
    const consumed: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const p = await timed(['-P', ...base, '-p', '0', '-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'message.timeout.ms=60000', '-l', file]);
      produced.push((count * 1000) / p);
      const c = await timed(['-C', ...base, '-p', '0', '-o', String(round * count), '-c', String(count), '-e', '-q', '-f', '%s\n']);
      consumed.push((count * 1000) / c);
    }
    ctx.log(`kcat: -P ${produced.map(Math.round).join(', ')} records/s; -C ${consumed.map(Math.round).join(', ')}`);
    const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
    const pRate = median(produced);
    const cRate = median(consumed);
    return [
      {
        id: 'kafka.kcat_produce.records_per_s',
        figure: `kcat -P from a file (${count} lines, acks=all)`,
        unit: 'records/s',
        yak: pRate,
        comparison: { label: 'XADD pipelined × 1,000', value: xaddRate },
        ratio: ratio(pRate, xaddRate),
        rounds: { yak: produced },
        notes: 'spawn to exit, one partition; the comparison is the median of the XADD rounds above (not paired)',
      },
      {
        id: 'kafka.kcat_consume.records_per_s',
        figure: `kcat -C -e (${count} records)`,
        unit: 'records/s',
        yak: cRate,
        comparison: { label: 'XRANGE COUNT 10000', value: xrangeRate },
        ratio: ratio(cRate, xrangeRate),
        rounds: { yak: consumed },
        notes: 'spawn to exit, one partition, values printed to a pipe; the comparison is the median of the XRANGE rounds above (not paired)',
      },
    ];
  } finally {
    await cleanup();
  }
}

/** Runs kcat with `args`; the milliseconds from spawn to a successful exit. */
function timed(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const p = spawn('kcat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`kcat ${args[0]} exited ${code}: ${stderr.slice(0, 500)}`))));
  });
}

const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(2));

/**
 * Reads the records of `partition` from offset `from` (0) up to offset `count` as a prefetching consumer does (librdkafka,
 * kcat's library, sends the next Fetch as soon as an answer arrives and hands the records to the
 * application meanwhile): the next offset comes from the last batch header, the next Fetch goes
 * out, then the batches are decoded (CRC-32C checked) and each value parsed.
 */
async function readPartition(conn: KafkaConnection, partition: number, count: number, from = 0): Promise<number> {
  let offset = from;
  let n = 0;
  let pending: Promise<Reader> | null = conn.request(1, 4, fetchBody(TOPIC, partition, from, 0));
  while (pending !== null) {
    const answer = fetchAnswer(await pending);
    pending = null;
    if (answer.error !== 0) throw new Error(`Kafka fetch answered error ${answer.error}`);
    if (answer.records.length === 0) throw new Error(`Kafka fetch made no progress at ${offset} (high-water mark ${answer.hwm})`);
    const next = endOffsetOf(answer.records);
    if (next < count) pending = conn.request(1, 4, fetchBody(TOPIC, partition, next, 0));
    for (const batch of decodeBatches(answer.records, 0)) {
      for (let i = 0; i < batch.records.length; i++) {
        if (batch.baseOffset + i < offset) continue; // below the offset asked for, as clients skip
        JSON.parse(batch.records[i]!.value!.toString('utf8'));
        n++;
      }
    }
    offset = next;
  }
  return n;
}

/** One past the last offset of the record batches in `records`, from their headers alone. */
function endOffsetOf(records: Buffer): number {
  let end = -1;
  for (let pos = 0; pos + 61 <= records.length; pos += 12 + records.readInt32BE(pos + 8)) {
    end = Number(records.readBigInt64BE(pos)) + records.readInt32BE(pos + 23) + 1;
  }
  return end;
}

/**
 * Each partition's high-water mark by ListOffsets v1 (latest), not by a Fetch: a Fetch would read
 * (and cache) the records the "first read" row is meant to find cold.
 */
async function highWatermarks(conn: KafkaConnection, partitions: number): Promise<number[]> {
  const body = new Writer()
    .int32(-1)
    .array([TOPIC], (w, t) => w.string(t).array(Array.from({ length: partitions }, (_, p) => p), (w, p) => w.int32(p).int64(-1)))
    .toBuffer();
  const r = await conn.request(2, 1, body);
  const out = new Array<number>(partitions).fill(0);
  for (let t = r.int32(); t > 0; t--) {
    r.string();
    for (let n = r.int32(); n > 0; n--) {
      const p = r.int32();
      const error = r.int16();
      r.int64(); // timestamp
      const offset = r.int64();
      if (error !== 0) throw new Error(`Kafka ListOffsets answered error ${error}`);
      out[p] = offset;
    }
  }
  return out;
}

async function fillStreams(redis: Redis, perStream: number, streams: number): Promise<void> {
  const values = Array.from({ length: BATCH }, (_, i) => payloadText(i));
  for (let s = 0; s < streams; s++) {
    for (let done = 0; done < perStream; done += BATCH) {
      const p = redis.pipeline();
      for (let i = 0; i < Math.min(BATCH, perStream - done); i++) p.xadd(`bench:kafka:${s}`, '*', 'payload', values[i]!);
      await p.exec();
    }
  }
}
