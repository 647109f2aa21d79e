import type { ProduceRecord } from '../../broker/service.js';
import type { SupportedCodec } from '../../log/compression/index.js';
import type { RequestContext } from '../context.js';
import { KafkaError } from '../protocol/error-codes.js';
import type { DecodedBatch } from '../protocol/record-batch.js';
import { idempotenceOf } from './index.js';
import { addSequence, lastSequence, type ProducerBatch } from './producer-marker.js';

/** Bounds on how long a duplicate waits for its original to commit (the request's timeout_ms, clamped). */
const DUPLICATE_WAIT_MS = { min: 1_000, max: 60_000 };

/**
 * The producer of one partition's batches: null when they carry no producer id (no idempotence).
 * Several batches (clients send one) must come from one producer with consecutive sequences;
 * they are then judged as one.
 */
export function producerOf(batches: readonly DecodedBatch[]): ProducerBatch | null {
  const first = batches[0]!;
  const idempotent = batches.filter((b) => b.producerId >= 0).length;
  if (idempotent === 0) return null;
  if (idempotent !== batches.length) throw new KafkaError('INVALID_RECORD', 'batches with and without a producer id in one partition');
  if (first.producerEpoch < 0 || first.baseSequence < 0) throw new KafkaError('INVALID_RECORD', `producer id ${first.producerId} with epoch ${first.producerEpoch} and sequence ${first.baseSequence}`);
  const batch: ProducerBatch = { producerId: first.producerId, producerEpoch: first.producerEpoch, baseSequence: first.baseSequence, count: 0 };
  for (const b of batches) {
    if (b.producerId !== batch.producerId || b.producerEpoch !== batch.producerEpoch) throw new KafkaError('INVALID_RECORD', 'batches of different producers in one partition');
    const expected = addSequence(batch.baseSequence, batch.count);
    if (b.baseSequence !== expected) throw new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `the batches of one partition skip from sequence ${expected} to ${b.baseSequence}`);
    batch.count += b.records.length;
  }
  return batch;
}

/**
 * An idempotent producer's batch (Kafka's enable.idempotence): appended once whatever the retries.
 * A batch already in the log (same producer, epoch and sequences, within its last 5) is answered
 * with its original base offset once that is committed — Kafka ≥ 2's DUPLICATE_SEQUENCE_NUMBER
 * handling, a success — and not appended again; a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER
 * (45), an older producer epoch INVALID_PRODUCER_EPOCH (47); both change nothing.
 */
export async function produceIdempotent(topic: string, partition: number, records: ProduceRecord[], codec: SupportedCodec, producer: ProducerBatch, timeoutMs: number, ctx: RequestContext): Promise<number> {
  const view = ctx.backend.view();
  if (view.leader?.id !== view.selfId) throw new KafkaError('NOT_LEADER_OR_FOLLOWER', 'this broker does not lead');
  let log = ctx.backend.partition(topic, partition);
  if (!log && !ctx.backend.topics().some((t) => t.name === topic)) {
    await ctx.backend.createTopic(topic, ctx.backend.defaultPartitions);
    log = ctx.backend.partition(topic, partition);
  }
  if (!log) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' has no partition ${partition}`);
  const table = idempotenceOf(ctx.backend).producers(log);
  const rebuilding = table.ready(view.epoch);
  if (rebuilding) await rebuilding;
  // From here to the append nothing awaits: the check, the reservation (beforeAppend) and the
  // append happen in one step, in the order the requests came.
  const verdict = table.check(producer);
  if (verdict.kind === 'duplicate') {
    let written;
    try {
      written = await verdict.written;
    } catch (err) {
      table.markStale();
      throw err;
    }
    const wait = Math.min(DUPLICATE_WAIT_MS.max, Math.max(DUPLICATE_WAIT_MS.min, timeoutMs));
    if (!(await ctx.backend.waitCommitted(log, written.lastOffset, wait))) {
      throw new KafkaError('REQUEST_TIMED_OUT', `the batch (producer ${producer.producerId}, sequences ${producer.baseSequence}-${lastSequence(producer)}) is in the log at offset ${written.baseOffset} but not committed yet`);
    }
    ctx.log('debug', `kafka: ${topic}/${partition} batch of producer ${producer.producerId} (sequences ${producer.baseSequence}-${lastSequence(producer)}) already at offset ${written.baseOffset}: answered, not appended again`, 'kafka.duplicate-batch', { topic, partition, producer_id: producer.producerId, offset: written.baseOffset });
    return written.baseOffset;
  }
  const results = await ctx.backend.produce(topic, records, codec, (_partition, appendingTo) => {
    if (appendingTo !== log) throw new KafkaError('NOT_LEADER_OR_FOLLOWER', 'the partition changed; retry');
    return table.reserve(producer);
  });
  return results[0]!.offset;
}
