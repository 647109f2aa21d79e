import type { RequestContext } from '../context.js';
import { producerIdOf } from '../idempotence/producer-ids.js';
import { KafkaError, kafkaCodeOf } from '../protocol/error-codes.js';
import type { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

/**
 * InitProducerId 0–1: a producer id for an idempotent producer (librdkafka enable.idempotence,
 * KafkaJS idempotent: true, Java clients by default). Any broker answers, as Kafka's do: the id is
 * the lease's epoch and a number counted in Redis (idempotence/producer-ids.ts); without Redis or
 * a lease the answer is COORDINATOR_NOT_AVAILABLE and the client asks again. Transactions are
 * not served: a transactional id is refused. A producer id grants nothing by itself: every
 * Produce still checks the principal's topics.
 */
export interface InitProducerIdRequest {
  transactionalId: string | null;
}

export function decodeInitProducerId(r: Reader): InitProducerIdRequest {
  const transactionalId = r.nullableString();
  r.int32(); // transaction_timeout_ms
  return { transactionalId };
}

/** A fresh producer id always starts at epoch 0 (epochs are bumped by transactions, not served). */
const FIRST_EPOCH = 0;

export async function handleInitProducerId(req: InitProducerIdRequest, ctx: RequestContext): Promise<Writer> {
  let error = 0;
  let producerId = -1;
  let epoch = -1;
  try {
    if (req.transactionalId !== null) throw new KafkaError('TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'transactions are not served: only idempotent producers (no transactional.id)');
    let counted: { epoch: number; n: number };
    try {
      counted = await ctx.backend.nextProducerId();
    } catch (err) {
      throw new KafkaError('COORDINATOR_NOT_AVAILABLE', `no producer id now (${(err as Error).message}); ask again`);
    }
    producerId = producerIdOf(counted);
    epoch = FIRST_EPOCH;
    ctx.log('debug', `kafka: producer id ${producerId} for client '${ctx.clientId ?? ''}'`, 'kafka.producer-id', { producer_id: producerId, client: ctx.clientId });
  } catch (err) {
    error = kafkaCodeOf(err);
  }
  return new Writer(24).int32(0).int16(error).int64(producerId).int16(epoch);
}
