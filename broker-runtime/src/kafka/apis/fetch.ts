import type { PartitionLog } from '../../log/types.js';
import { chargeQuota, denied, type RequestContext } from '../context.js';
import { KAFKA_ERRORS, KafkaError, kafkaCodeOf } from '../protocol/error-codes.js';
import type { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { kafkaBatchesOf } from './fetch-batches.js';
import { EncodedBatchCache, FETCH_CACHE_BYTES } from './fetch-cache.js';

/** Fetch 4–11. No fetch sessions (session_id 0 answers every partition in full), no isolation levels beyond committed. */
export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  topics: { name: string; partitions: { index: number; offset: number; maxBytes: number }[] }[];
}

export function decodeFetch(r: Reader, version: number): FetchRequest {
  r.int32(); // replica_id: consumers send -1
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = r.int32();
  r.int8(); // isolation_level: YAK only ever serves committed records
  if (version >= 7) {
    r.int32(); // session_id
    r.int32(); // session_epoch
  }
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const index = r.int32();
      if (version >= 9) r.int32(); // current_leader_epoch
      const offset = r.int64();
      if (version >= 5) r.int64(); // log_start_offset (a follower's; consumers send -1)
      return { index, offset, maxBytes: r.int32() };
    }),
  }));
  if (version >= 7) r.array((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) })); // forgotten_topics_data
  if (version >= 11) r.string(); // rack_id
  return { maxWaitMs, minBytes, maxBytes, topics };
}

/** Records asked per partition read; the byte limits usually stop a read first. */
const MAX_RECORDS_PER_READ = 10_000;
/**
 * The most record bytes one Fetch answer carries, whatever max_bytes says (KIP-74's first record
 * excepted, which --max-message-bytes bounds). Kafka's broker caps it too (fetch.max.bytes, 55 MiB);
 * smaller here because up to 64 requests of a connection are answered at once.
 */
export const FETCH_MAX_BYTES = 16 << 20;
/** A long poll never waits longer than this, whatever the client asks. */
const MAX_WAIT_MS = 30_000;
const EMPTY = Buffer.alloc(0);
/** Encoded batches kept for re-reads, for every partition of this broker (fetch-cache.ts). */
const FETCH_CACHE = new EncodedBatchCache(FETCH_CACHE_BYTES);

interface PartitionAnswer {
  index: number;
  error: number;
  highWatermark: number;
  logStart: number;
  records: Buffer | null;
}

/**
 * Committed records only, from any broker (a follower's high-water mark may trail the leader's by a
 * moment). When nothing is there yet, waits up to max_wait_ms on the broker's high-water-mark
 * waiters for any asked partition to get a record, then reads again.
 */
export async function handleFetch(req: FetchRequest, ctx: RequestContext): Promise<Writer> {
  let answers = await readAll(req, ctx);
  const bytes = answers.reduce((s, t) => s + t.partitions.reduce((s2, p) => s2 + (p.records?.length ?? 0), 0), 0);
  if (bytes < Math.max(1, req.minBytes) && req.maxWaitMs > 0) {
    const waits: Promise<boolean>[] = [];
    const waitMs = Math.min(req.maxWaitMs, MAX_WAIT_MS);
    const waiting = new Set<string>();
    for (const t of req.topics) {
      for (const p of t.partitions) {
        // One waiter per partition, however often the request names it.
        const key = `${p.index}:${t.name}`;
        if (waiting.has(key)) continue;
        waiting.add(key);
        const log = ctx.backend.partition(t.name, p.index);
        if (log && p.offset >= 0 && !denied(ctx, { op: 'consume', topic: t.name })) waits.push(ctx.backend.waitCommitted(log, p.offset, waitMs));
      }
    }
    if (waits.length > 0) {
      const timer = new Promise<boolean>((r) => setTimeout(() => r(false), waitMs).unref());
      if (await Promise.race([...waits, timer])) answers = await readAll(req, ctx);
    } else {
      await new Promise((r) => setTimeout(r, waitMs).unref());
    }
  }
  const bytesOut = answers.reduce((s, t) => s + t.partitions.reduce((s2, p) => s2 + (p.records?.length ?? 0), 0), 0);
  return encodeFetch(ctx.apiVersion, answers, chargeQuota(ctx, 'out', bytesOut));
}

async function readAll(req: FetchRequest, ctx: RequestContext): Promise<{ name: string; partitions: PartitionAnswer[] }[]> {
  // max_bytes <= 0 is not "unlimited": the broker's cap applies (Kafka's broker-side fetch.max.bytes).
  let budget = req.maxBytes > 0 ? Math.min(req.maxBytes, FETCH_MAX_BYTES) : FETCH_MAX_BYTES;
  let first = true;
  const seen = new Set<string>();
  const out: { name: string; partitions: PartitionAnswer[] }[] = [];
  for (const t of req.topics) {
    const partitions: PartitionAnswer[] = [];
    for (const p of t.partitions) {
      // A partition named twice is read once (Kafka keeps one entry per partition): otherwise one
      // small request listing the same partition thousands of times is an answer thousands of times its data.
      const key = `${p.index}:${t.name}`;
      const again = seen.has(key);
      seen.add(key);
      const answer = await readPartition(t.name, p.index, p.offset, again ? 0 : Math.min(p.maxBytes, budget), first && !again, ctx);
      const read = answer.records?.length ?? 0;
      budget -= read;
      if (read > 0) first = false;
      partitions.push(answer);
    }
    out.push({ name: t.name, partitions });
  }
  return out;
}

async function readPartition(topic: string, index: number, offset: number, maxBytes: number, first: boolean, ctx: RequestContext): Promise<PartitionAnswer> {
  let log: PartitionLog | undefined;
  try {
    const why = denied(ctx, { op: 'consume', topic });
    if (why) throw new KafkaError('TOPIC_AUTHORIZATION_FAILED', why);
    log = ctx.backend.partition(topic, index);
    if (!log) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}/${index}`);
    const highWatermark = log.highWatermark();
    const logStart = log.logStartOffset();
    if (offset < logStart || offset > log.logEndOffset()) throw new KafkaError('OFFSET_OUT_OF_RANGE', `offset ${offset} of ${topic}/${index}`);
    // KIP-74: the first partition with data answers at least one record even over the byte limits.
    const limit = maxBytes > 0 ? maxBytes : first ? 1 : 0;
    if (offset >= highWatermark || limit <= 0) return { index, error: 0, highWatermark, logStart, records: null };
    // Stored entries as they are (one segment's worth), encoded as Kafka batches from their bytes.
    const raw = await log.readRaw(offset, limit);
    return { index, error: 0, highWatermark, logStart, records: kafkaBatchesOf(raw.bytes, raw.nextOffset, offset, highWatermark, MAX_RECORDS_PER_READ, { cache: FETCH_CACHE, log: FETCH_CACHE.idOf(log) }, limit) };
  } catch (err) {
    return { index, error: kafkaCodeOf(err), highWatermark: log?.highWatermark() ?? -1, logStart: log?.logStartOffset() ?? -1, records: null };
  }
}

export function encodeFetch(version: number, topics: readonly { name: string; partitions: readonly PartitionAnswer[] }[], throttleMs = 0): Writer {
  // Sized for the whole answer up front: the records are copied in once, never again as it grows.
  let size = 64;
  for (const t of topics) {
    size += 8 + Buffer.byteLength(t.name);
    for (const p of t.partitions) size += 64 + (p.records?.length ?? 0);
  }
  const w = new Writer(size);
  w.int32(throttleMs);
  if (version >= 7) w.int16(KAFKA_ERRORS.NONE).int32(0); // error_code, session_id
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.error).int64(p.highWatermark);
      w.int64(p.highWatermark); // last_stable_offset: no transactions, so the high-water mark
      if (version >= 5) w.int64(p.logStart);
      w.int32(-1); // aborted_transactions: null
      if (version >= 11) w.int32(-1); // preferred_read_replica: none
      // An empty records field, never null: librdkafka refuses a null MessageSet.
      w.nullableBytes(p.records ?? EMPTY);
    });
  });
  return w;
}
