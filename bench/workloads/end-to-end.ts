import { performance } from 'node:perf_hooks';
import type { HttpConnection } from '../http-conn.js';
import { produceBody } from '../payload.js';
import { median, percentile, present } from '../stats.js';
import type { Row } from '../types.js';
import { ensureTopic, expectOk, leaderUrl, type WorkloadContext } from './context.js';

const TOPIC = 'bench-e2e';

/**
 * Producer → commit → a long-polling consumer sees it. One producer sends records to partition 0
 * one after another; one consumer long-polls the leader (wait_ms) from the partition's end. The
 * latency of a record is from just before its produce request was written to when the consume
 * answer carrying it arrived. No comparison: Redis Streams has no replication to wait for.
 */
export async function endToEnd(ctx: WorkloadContext): Promise<Row[]> {
  const url = await leaderUrl(ctx);
  await ensureTopic(url, TOPIC, ctx.env.settings.partitions, ctx.env.connection);
  const producer = await ctx.env.connect(url);
  const consumer = await ctx.env.connect(url);
  const p50s: (number | null)[] = [];
  const p99s: (number | null)[] = [];
  let seqBase = 0;

  const round = async (count: number, record: boolean) => {
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    const start = await partitionEnd(producer);
    const first = seqBase;
    seqBase += count;
    const reading = (async () => {
      let offset = start;
      while (latencies.length < count) {
        const r = await consumer.request('GET', `/consume?topic=${TOPIC}&partition=0&offset=${offset}&max=1000&wait_ms=10000`);
        const seen = performance.now();
        expectOk(r.status, r.body, 'GET /consume (long poll)');
        const answer = JSON.parse(r.body.toString('utf8')) as { records: { payload: { seq: number } }[]; next_offset: number };
        for (const rec of answer.records) {
          const t = sentAt.get(rec.payload.seq);
          if (t !== undefined) latencies.push(seen - t);
        }
        offset = answer.next_offset;
      }
    })();
    for (let i = 0; i < count; i++) {
      const seq = first + i;
      sentAt.set(seq, performance.now());
      const r = await producer.request('POST', '/produce', produceBody(TOPIC, seq, 0));
      expectOk(r.status, r.body, 'POST /produce');
    }
    await reading;
    if (record) {
      p50s.push(percentile(latencies, 50));
      p99s.push(percentile(latencies, 99));
    }
  };

  try {
    await round(Math.min(50, ctx.options.e2eRecords), false);
    for (let r = 0; r < ctx.options.rounds; r++) await round(ctx.options.e2eRecords, true);
  } finally {
    producer.close();
    consumer.close();
  }
  ctx.log(`end-to-end: p50 ${p50s.map((v) => v?.toFixed(2)).join(', ')} ms; p99 ${p99s.map((v) => v?.toFixed(2)).join(', ')} ms`);
  const row = (k: 'p50' | 'p99', values: (number | null)[]): Row => ({
    id: `e2e.${k}_ms`,
    figure: `end-to-end ${k}`,
    unit: 'ms',
    yak: median(present(values)),
    comparison: null,
    ratio: null,
    rounds: { yak: values },
    notes: 'sequential producer to partition 0, one long-polling consumer on the leader',
  });
  return [row('p50', p50s), row('p99', p99s)];
}

async function partitionEnd(conn: HttpConnection): Promise<number> {
  const r = await conn.request('GET', '/topics');
  expectOk(r.status, r.body, 'GET /topics');
  const topics = JSON.parse(r.body.toString('utf8')) as { topics: { name: string; partitions: { partition: number; high_watermark: number }[] }[] };
  return topics.topics.find((t) => t.name === TOPIC)?.partitions.find((p) => p.partition === 0)?.high_watermark ?? 0;
}
