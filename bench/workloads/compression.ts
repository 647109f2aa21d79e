import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { codecByName } from '../../broker-runtime/src/log/compression/codecs.js';
import { encodeCompressedBatch, encodeRecords, expandEntries, scanRecords } from '../../broker-runtime/src/log/record-codec.js';
import type { RecordInput } from '../../broker-runtime/src/log/types.js';
import { cpuMeter } from '../cpu.js';
import { HttpConnection } from '../http-conn.js';
import { alternate, runFor } from '../rounds.js';
import { median, pairedRatios, present } from '../stats.js';
import type { Row } from '../types.js';
import { closeAll, expectOk, openConnections, type WorkloadContext } from './context.js';

const CODECS = ['none', 'gzip', 'lz4'] as const;
type CodecChoice = (typeof CODECS)[number];
const CLIENTS = 4;
/** Records per produce request (one stored batch per partition share). */
const BATCH = 100;
const BATCH_SIZES = [1, 10, 100, 500] as const;

/**
 * YAK-like payloads for compression: JSON objects of ~100-1000 bytes with varied fields (ids,
 * names from a small set, amounts, ISO times, tag lists), unlike the padded payload of the other
 * workloads, which compresses far better than anything real. Deterministic.
 */
export function realisticPayload(seq: number): string {
  let x = (seq * 2654435761) >>> 0;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
  const target = 100 + Math.floor(rnd() * 900);
  const o = { seq, id: Math.floor(rnd() * 1e9), user: `user-${Math.floor(rnd() * 5000)}`, type: words[Math.floor(rnd() * words.length)], amount: Math.round(rnd() * 1e7) / 100, at: new Date(1.7e12 + rnd() * 1e10).toISOString(), tags: [] as string[] };
  let s = JSON.stringify(o);
  while (s.length < target) {
    o.tags.push(`${words[Math.floor(rnd() * words.length)]}-${Math.floor(rnd() * 100)}`);
    s = JSON.stringify(o);
  }
  return s;
}

function batchBody(topic: string, firstSeq: number): string {
  const records: string[] = new Array<string>(BATCH);
  for (let i = 0; i < BATCH; i++) records[i] = `{"payload":${realisticPayload(firstSeq + i)}}`;
  return `{"topic":${JSON.stringify(topic)},"records":[${records.join(',')}]}`;
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.log')) n += (await stat(join(dir, name))).size;
  return n;
}

/**
 * Per codec, on the cluster: POST /produce/batch of 100 realistic records from 4 clients to a
 * one-partition topic whose compression.type is that codec; server CPU per record (all 3 brokers)
 * and bytes on disk per record (the leader's segment files). In process, with the broker's own
 * code: encode+compress and decompress+cut µs per record and the ratio, for batches of 1-500.
 */
export async function compressionWorkload(ctx: WorkloadContext): Promise<Row[]> {
  const { env, options } = ctx;
  const leader = (await env.cluster.waitForLeader()).broker;
  const topics = Object.fromEntries(CODECS.map((c) => [c, `bench-cz-${c}`])) as Record<CodecChoice, string>;
  const admin = await HttpConnection.open(leader.url, env.connection);
  try {
    for (const c of CODECS) {
      const r = await admin.request('POST', '/topics', JSON.stringify({ name: topics[c], partitions: 1, config: { 'compression.type': c } }));
      if (r.status !== 201 && r.status !== 409) throw new Error(`creating ${topics[c]}: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
    }
  } finally {
    admin.close();
  }
  const conns = await openConnections(leader.url, CLIENTS, env.connection);
  // Bodies made once: 16 different batches per codec, sent round-robin.
  const bodies = Object.fromEntries(CODECS.map((c) => [c, Array.from({ length: 16 }, (_, i) => batchBody(topics[c], i * BATCH))])) as Record<CodecChoice, string[]>;
  const cpu: Record<CodecChoice, (number | null)[]> = { none: [], gzip: [], lz4: [] };
  const rate: Record<CodecChoice, (number | null)[]> = { none: [], gzip: [], lz4: [] };
  const produced: Record<CodecChoice, number> = { none: 0, gzip: 0, lz4: 0 };
  const round = (c: CodecChoice, ms: number, record: boolean) => async () => {
    const meter = cpuMeter(env.cluster.brokers.map((b) => b.pid));
    let records = 0;
    let next = 0;
    const elapsed = await runFor(ms, CLIENTS, async (w) => {
      const r = await conns[w]!.request('POST', '/produce/batch', bodies[c][next++ % 16]!);
      expectOk(r.status, r.body, `POST /produce/batch (${c})`);
      records += BATCH;
    });
    produced[c] += records;
    const cpuMs = meter();
    if (!record) return;
    rate[c].push((records * 1000) / elapsed);
    cpu[c].push(cpuMs === null ? null : (cpuMs * 1000) / records);
  };
  try {
    for (const c of CODECS) await round(c, Math.min(1000, options.roundMs), false)();
    await alternate(options.rounds, CODECS.map((c) => round(c, options.roundMs, true)));
  } finally {
    closeAll(conns);
  }
  const onDisk: Record<CodecChoice, number | null> = { none: null, gzip: null, lz4: null };
  for (const c of CODECS) onDisk[c] = (await dirBytes(join(leader.opts.dataDir, 'topics', `${topics[c]}-0`))) / produced[c];
  ctx.log(`compression: bytes/record ${CODECS.map((c) => `${c} ${onDisk[c]?.toFixed(1)}`).join(', ')}; broker CPU µs/record ${CODECS.map((c) => `${c} ${median(present(cpu[c]))?.toFixed(1)}`).join(', ')}`);

  const rows: Row[] = [];
  for (const c of CODECS) {
    rows.push({
      id: `compression.${c}.bytes_per_record`,
      figure: `compression ${c}: bytes on disk per record`,
      unit: 'B',
      yak: onDisk[c],
      comparison: c === 'none' ? null : { label: 'none', value: onDisk.none },
      ratio: c === 'none' || onDisk[c] === null || !onDisk.none ? null : onDisk[c]! / onDisk.none,
      notes: `batches of ${BATCH} JSON records of 100-1,000 bytes (avg ~550) to a topic with compression.type ${c}; the leader's segment bytes ÷ records`,
    });
    rows.push({
      id: `compression.${c}.cpu_us_per_record`,
      figure: `compression ${c}: server CPU per record`,
      unit: 'µs',
      yak: median(present(cpu[c])),
      comparison: c === 'none' ? null : { label: 'none', value: median(present(cpu.none)) },
      ratio: c === 'none' ? null : median(pairedRatios(cpu[c], cpu.none)),
      rounds: { yak: cpu[c] },
      notes: `all three brokers (leader compresses, followers check each batch by decompressing it); ${median(present(rate[c]))?.toFixed(0)} records/s from ${CLIENTS} clients`,
    });
  }
  rows.push(...codecRows(options.rounds, options.mode === 'smoke' ? 2000 : 20_000));
  return rows;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** In process: the broker's encode+compress and decompress+cut per record, and the ratio, for each batch size. */
export function codecRows(rounds: number, perSize: number): Row[] {
  const rows: Row[] = [];
  for (const name of ['none', 'gzip', 'lz4'] as const) {
    // none: the plain records' own cost (encode; scan with CRC checks), the floor the codecs add to.
    const codec = name === 'none' ? undefined : codecByName(name)!;
    for (const size of BATCH_SIZES) {
      const batches: RecordInput[][] = Array.from({ length: Math.max(4, perSize / size) }, (_, b) =>
        Array.from({ length: size }, (_, i) => ({ key: null, payload: realisticPayload(b * size + i), headers: {}, timestamp: 1.7e12 + b })),
      );
      const records = batches.length * size;
      const compressUs: number[] = [];
      const decompressUs: number[] = [];
      let stored = 0;
      let plain = 0;
      for (let r = 0; r < Math.max(1, rounds); r++) {
        // CPU time of this process, not wall time: on a shared machine the wall clock also counts
        // the time other processes had the core.
        let t = cpuUs();
        const encoded = batches.map((b, i) => (codec ? encodeCompressedBatch(b, i * size, 1, codec) : encodeRecords(b, i * size, 1)));
        compressUs.push((cpuUs() - t) / records);
        t = cpuUs();
        for (let i = 0; i < encoded.length; i++) {
          if (codec) expandEntries(encoded[i]!, i * size, (i + 1) * size, size);
          else scanRecords(encoded[i]!, { expectedOffset: i * size });
        }
        decompressUs.push((cpuUs() - t) / records);
        stored = encoded.reduce((n, e) => n + e.length, 0);
        plain = batches.reduce((n, b, i) => n + encodeRecords(b, i * size, 1).length, 0);
      }
      rows.push({
        id: `compression.codec.${name}.batch_${size}`,
        figure: name === 'none' ? `plain, batch of ${size}: encode per record` : `${name}, batch of ${size}: compress per record`,
        unit: 'µs',
        yak: median(compressUs),
        comparison: { label: name === 'none' ? 'scan' : 'decompress', value: median(decompressUs) },
        ratio: null,
        notes: `stored ${(plain / stored).toFixed(2)}× smaller than plain records (${(stored / records).toFixed(0)} vs ${(plain / records).toFixed(0)} bytes per record); in process, the broker's code, CPU time (encode+compress; decompress, check and cut)`,
      });
    }
  }
  return rows;
}
