import { KafkaError } from '../protocol/error-codes.js';

/** Producer ids one leadership's epoch may count: the low bits of an id count within its epoch. */
export const IDS_PER_EPOCH = 2 ** 20;

/**
 * A producer id from the pair Redis counted (LeaseStore.nextProducerId): `epoch * 2^20 + n`, the
 * epoch of the lease held when it was counted and n counting from 0 within that epoch.
 *
 * Why any broker may give ids out: librdkafka asks whichever broker it is connected to (kcat with
 * enable.idempotence=true, left connected only to a follower after its leader died, asked that
 * follower for 60 s while it answered NOT_COORDINATOR), and Kafka's brokers all answer. Why the
 * epoch in the id: the fencing epoch only grows — the election raises it above both Redis's counter
 * and every epoch a broker has seen, even when Redis lost its data — so a count that Redis lost
 * with its data starts again under a new epoch, never under one whose ids are in use. Epochs are
 * below 2^32, so ids stay below 2^52: exact as JavaScript numbers and as Kafka's int64.
 */
export function producerIdOf(counted: { epoch: number; n: number }): number {
  if (counted.n >= IDS_PER_EPOCH) {
    throw new KafkaError('COORDINATOR_NOT_AVAILABLE', `this leadership (epoch ${counted.epoch}) has given out all ${IDS_PER_EPOCH} producer ids; the next leader will give more`);
  }
  return counted.epoch * IDS_PER_EPOCH + counted.n;
}
