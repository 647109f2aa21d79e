import type { ProduceRecord } from '../../broker/service.js';
import { chargeQuota, denied, TOPIC_NAME, type RequestContext } from '../context.js';
import { KAFKA_ERRORS, KafkaError, kafkaCodeOf } from '../protocol/error-codes.js';
import type { SupportedCodec } from '../../log/compression/index.js';
import { decodeBatches, requestBudget, type DecompressionBudget } from '../protocol/record-batch.js';
import type { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { toProduceRecord } from '../record-mapping.js';
import { encodeMarker, PRODUCER_MARKER, type ProducerBatch } from '../idempotence/index.js';
import { produceIdempotent, producerOf } from '../idempotence/produce-idempotent.js';

/** Produce 3–7 (RecordBatch v2). */
export interface ProduceRequest {
  acks: number;
  /** How long the client waits for the answer: bounds how long a duplicate waits for its original to commit. */
  timeoutMs: number;
  topics: { name: string; partitions: { index: number; records: Buffer | null }[] }[];
}

export function decodeProduce(r: Reader): ProduceRequest {
  r.nullableString(); // transactional_id: transactions are not supported, the batches say so
  const acks = r.int16();
  // timeout_ms: the broker's --produce-timeout-seconds applies to new records; a duplicate waits at most this.
  const timeoutMs = r.int32();
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
  }));
  return { acks, timeoutMs, topics };
}

interface PartitionAnswer {
  index: number;
  error: number;
  baseOffset: number;
  message: string | null;
}

/**
 * Each partition's batches go through the broker's produce (the REST path: committed to every
 * in-sync replica before it resolves), so acks=-1 and acks=1 both answer once committed: YAK never
 * acknowledges an uncommitted record. acks=0 gets no answer (null); a refusal then closes the
 * connection, as Kafka does, so the client refreshes its metadata.
 *
 * Every partition's produce is started synchronously, in request order: pipelined requests on one
 * connection append in the order they were sent.
 */
export function handleProduce(req: ProduceRequest, ctx: RequestContext): Promise<Writer | null> {
  if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
    return Promise.resolve(encodeProduce(ctx.apiVersion, req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => fail(p.index, new KafkaError('INVALID_REQUIRED_ACKS', `acks ${req.acks}`))) }))));
  }
  const now = Date.now();
  const bytesIn = req.topics.reduce((s, t) => s + t.partitions.reduce((s2, p) => s2 + (p.records?.length ?? 0), 0), 0);
  const throttleMs = chargeQuota(ctx, 'in', bytesIn);
  const budget = requestBudget();
  const budgetBefore = budget.left;
  const pending = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => producePartition(t.name, p.index, p.records, now, budget, req.timeoutMs, ctx)),
  }));
  // Decoding happened just now (synchronously): the connection counts what was inflated as held
  // until the answer goes out, so pipelined small compressed requests cannot hold gigabytes.
  ctx.decompressed?.(budgetBefore - budget.left);
  const all = Promise.all(pending.map(async (t) => ({ name: t.name, partitions: await Promise.all(t.partitions) })));
  if (req.acks === 0) {
    return all.then((topics) => {
      const failed = topics.some((t) => t.partitions.some((p) => p.error !== 0));
      if (failed) throw new AcksZeroRefused();
      return null;
    });
  }
  return all.then((topics) => encodeProduce(ctx.apiVersion, topics, throttleMs));
}

/**
 * How far ahead of the broker's clock a record's CreateTime may be (Kafka 4's default
 * log.message.timestamp.after.max.ms, answered INVALID_TIMESTAMP as Kafka does). Time retention
 * deletes a segment once its *newest* timestamp is old enough, and only from the start of the log:
 * one record stamped in the year 3000 would keep its segment, and every segment after it, forever.
 */
export const MAX_TIMESTAMP_AHEAD_MS = 60 * 60_000;

/** An acks=0 produce was refused: the connection closes (the only signal such a client gets). */
export class AcksZeroRefused extends Error {}

function fail(index: number, err: unknown): PartitionAnswer {
  return { index, error: kafkaCodeOf(err), baseOffset: -1, message: (err as Error).message ?? null };
}

function producePartition(topic: string, index: number, bytes: Buffer | null, now: number, budget: DecompressionBudget, timeoutMs: number, ctx: RequestContext): Promise<PartitionAnswer> {
  let records: ProduceRecord[];
  // The producer's codec is the one a topic with compression.type=producer (the default) stores
  // with: a Kafka lz4 frame becomes YAK's stored lz4 block, gzip stays gzip.
  let codec: SupportedCodec = 'none';
  let producer: ProducerBatch | null;
  try {
    if (!TOPIC_NAME.test(topic)) throw new KafkaError('INVALID_TOPIC_EXCEPTION', `topic name '${topic}' does not match ^[A-Za-z0-9._-]{1,249}$`);
    const why = denied(ctx, { op: 'produce', topic });
    if (why) throw new KafkaError('TOPIC_AUTHORIZATION_FAILED', why);
    if (bytes === null || bytes.length === 0) throw new KafkaError('CORRUPT_MESSAGE', 'no records');
    if (bytes.length > ctx.backend.maxMessageBytes) throw new KafkaError('MESSAGE_TOO_LARGE', `${bytes.length} bytes of records is over the limit of ${ctx.backend.maxMessageBytes} (--max-message-bytes)`);
    if (index < 0) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${index}`);
    records = [];
    const batches = decodeBatches(bytes, now, budget);
    producer = producerOf(batches);
    for (const batch of batches) {
      if (batch.codec !== 'none') codec = batch.codec;
      for (const r of batch.records) {
        if (r.timestamp > now + MAX_TIMESTAMP_AHEAD_MS) {
          throw new KafkaError('INVALID_TIMESTAMP', `a record has timestamp ${r.timestamp}, more than ${MAX_TIMESTAMP_AHEAD_MS} ms ahead of the broker's clock (${now})`);
        }
        records.push(toProduceRecord(r, index));
      }
    }
    if (records.length === 0) throw new KafkaError('CORRUPT_MESSAGE', 'a batch without records');
    if (producer) records[0]!.headers[PRODUCER_MARKER] = encodeMarker(producer);
  } catch (err) {
    return Promise.resolve(fail(index, err));
  }
  const answer = producer ? produceIdempotent(topic, index, records, codec, producer, timeoutMs, ctx) : ctx.backend.produce(topic, records, codec).then((results) => results[0]!.offset);
  return answer.then(
    (baseOffset) => ({ index, error: 0, baseOffset, message: null }),
    (err: unknown) => {
      const answer = fail(index, err);
      if (answer.error === KAFKA_ERRORS.UNKNOWN_SERVER_ERROR) ctx.log('error', `kafka produce to ${topic}/${index} failed: ${(err as Error).stack ?? String(err)}`);
      return answer;
    },
  );
}

export function encodeProduce(version: number, topics: readonly { name: string; partitions: readonly PartitionAnswer[] }[], throttleMs = 0): Writer {
  const w = new Writer(64);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.error).int64(p.baseOffset);
      w.int64(-1); // log_append_time_ms: CreateTime
      if (version >= 5) w.int64(-1); // log_start_offset: unknown here
    });
  });
  w.int32(throttleMs);
  return w;
}
