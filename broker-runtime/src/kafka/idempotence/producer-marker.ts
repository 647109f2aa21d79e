/**
 * How an idempotent producer's batch is remembered in the log, so that any replica that becomes
 * leader can rebuild the producers' last sequences from its own copy (as Kafka rebuilds them from
 * the producer id, epoch and sequence its batches carry).
 *
 * YAK's record format has no producer fields, so the first record of each idempotent Kafka batch
 * carries one reserved header, `yak.producer: "<producerId> <producerEpoch> <baseSequence> <count>"`,
 * covering the `count` records that follow it at consecutive offsets. A header is the smallest
 * change that keeps every old log (and every older broker replicating one) readable: the bytes on
 * disk are the same format, replication ships them unchanged, and Kafka consumers never see it
 * (every `yak.*` header is stripped for them). REST consumers see it like the other `yak.*`
 * markers; a REST producer may not send it (http/validate.ts refuses it), so no one can forge a
 * producer's history.
 */
export const PRODUCER_MARKER = 'yak.producer';

/**
 * Batches remembered per producer: Kafka's too (an idempotent producer has at most 5 requests in
 * flight). A table rebuilt from the log depends only on each producer's last RETAINED_BATCHES
 * markers, which is what log compaction keeps (log/compaction.ts).
 */
export const RETAINED_BATCHES = 5;

export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Records in the batch: its sequences are baseSequence .. baseSequence + count - 1 (wrapping at 2^31). */
  count: number;
}

export function encodeMarker(b: ProducerBatch): string {
  return `${b.producerId} ${b.producerEpoch} ${b.baseSequence} ${b.count}`;
}

const MARKER = /^(\d{1,16}) (\d{1,5}) (\d{1,10}) (\d{1,10})$/;

/** The batch a marker describes, or null for no marker or one that does not parse (ignored: never trusted half-way). */
export function parseMarker(text: string | undefined): ProducerBatch | null {
  if (text === undefined) return null;
  const m = MARKER.exec(text);
  if (!m) return null;
  const b = { producerId: Number(m[1]), producerEpoch: Number(m[2]), baseSequence: Number(m[3]), count: Number(m[4]) };
  if (!Number.isSafeInteger(b.producerId) || b.producerEpoch > 0x7fff || b.baseSequence > MAX_SEQUENCE || b.count < 1) return null;
  return b;
}

/** Kafka's sequences are int32 and wrap from 2^31 - 1 to 0. */
export const MAX_SEQUENCE = 0x7fffffff;

export function addSequence(seq: number, n: number): number {
  return (seq + n) % (MAX_SEQUENCE + 1);
}

/** The last sequence of `b`. */
export function lastSequence(b: ProducerBatch): number {
  return addSequence(b.baseSequence, b.count - 1);
}
