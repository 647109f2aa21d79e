import type { PartitionLog } from '../../log/types.js';
import { denied, type RequestContext } from '../context.js';
import { KAFKA_ERRORS, KafkaError, kafkaCodeOf } from '../protocol/error-codes.js';
import type { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

/** ListOffsets 1–5: earliest (-2), latest (-1, the high-water mark) or the first offset at or after a timestamp. */
export interface ListOffsetsRequest {
  topics: { name: string; partitions: { index: number; timestamp: number }[] }[];
}

export const LATEST = -1;
export const EARLIEST = -2;

export function decodeListOffsets(r: Reader, version: number): ListOffsetsRequest {
  r.int32(); // replica_id
  if (version >= 2) r.int8(); // isolation_level: committed only, always
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const index = r.int32();
      if (version >= 4) r.int32(); // current_leader_epoch
      return { index, timestamp: r.int64() };
    }),
  }));
  return { topics };
}

interface PartitionAnswer {
  index: number;
  error: number;
  timestamp: number;
  offset: number;
}

const SCAN_RECORDS = 5000;
const SCAN_BYTES = 4 << 20;

export async function handleListOffsets(req: ListOffsetsRequest, ctx: RequestContext): Promise<Writer> {
  // One partition at a time, each once: a search by timestamp reads up to SCAN_BYTES, so a request
  // naming one partition thousands of times must not start thousands of reads at once. Repeats are
  // answered INVALID_REQUEST, as Kafka answers duplicate partitions.
  const seen = new Set<string>();
  const topics: { name: string; partitions: PartitionAnswer[] }[] = [];
  for (const t of req.topics) {
    const partitions: PartitionAnswer[] = [];
    for (const p of t.partitions) {
      const key = `${p.index}:${t.name}`;
      if (seen.has(key)) partitions.push({ index: p.index, error: KAFKA_ERRORS.INVALID_REQUEST, timestamp: -1, offset: -1 });
      else partitions.push(await answer(t.name, p.index, p.timestamp, ctx));
      seen.add(key);
    }
    topics.push({ name: t.name, partitions });
  }
  const epoch = Math.min(ctx.backend.view().epoch, 0x7fffffff);
  const w = new Writer(128);
  if (ctx.apiVersion >= 2) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.error).int64(p.timestamp).int64(p.offset);
      if (ctx.apiVersion >= 4) w.int32(epoch);
    });
  });
  return w;
}

async function answer(topic: string, index: number, timestamp: number, ctx: RequestContext): Promise<PartitionAnswer> {
  try {
    const why = denied(ctx, { op: 'consume', topic });
    if (why) throw new KafkaError('TOPIC_AUTHORIZATION_FAILED', why);
    const log = ctx.backend.partition(topic, index);
    if (!log) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}/${index}`);
    if (timestamp === EARLIEST) return { index, error: 0, timestamp: -1, offset: log.logStartOffset() };
    if (timestamp === LATEST || timestamp < 0) return { index, error: 0, timestamp: -1, offset: log.highWatermark() };
    return { index, error: 0, ...(await firstAtOrAfter(log, timestamp)) };
  } catch (err) {
    return { index, error: kafkaCodeOf(err), timestamp: -1, offset: -1 };
  }
}

/**
 * The first committed record whose timestamp is at or after `timestamp` (Kafka's offsetsForTimes),
 * by scanning the committed records from the log start: producer timestamps need not grow with
 * offsets, so no bisection is exact. Offset -1 when there is none (as Kafka answers).
 */
async function firstAtOrAfter(log: PartitionLog, timestamp: number): Promise<{ timestamp: number; offset: number }> {
  const highWatermark = log.highWatermark();
  let from = log.logStartOffset();
  while (from < highWatermark) {
    const records = await log.read(from, highWatermark, SCAN_RECORDS, SCAN_BYTES);
    if (records.length === 0) break;
    for (const r of records) if (r.timestamp >= timestamp) return { timestamp: r.timestamp, offset: r.offset };
    from = records[records.length - 1]!.offset + 1;
  }
  return { timestamp: -1, offset: -1 };
}
