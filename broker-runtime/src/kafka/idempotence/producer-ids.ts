import { KafkaError } from '../protocol/error-codes.js';

/** Producer ids one leadership may give out: the low bits of an id count within its epoch. */
export const IDS_PER_EPOCH = 2 ** 20;

/**
 * Gives out producer ids on the cluster leader: `epoch * 2^20 + n`, n counting from 0 within the
 * leadership's fencing epoch.
 *
 * Why from the epoch rather than a Redis counter: the fencing epoch is already unique to one
 * leadership and only grows — the election script raises it above both Redis's counter and every
 * epoch a broker has seen, so it keeps growing even when Redis lost its data, where an INCR key
 * would start again at 1 and hand out ids already in use. It also costs no round trip. Only the
 * leader gives ids out (followers answer NOT_COORDINATOR and clients ask again), so two brokers
 * never count within the same epoch. Epochs are below 2^32, so ids stay below 2^52: exact as
 * JavaScript numbers and as Kafka's int64.
 */
export class ProducerIds {
  private epoch = -1;
  private next = 0;

  allocate(epoch: number): number {
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.next = 0;
    }
    if (this.next >= IDS_PER_EPOCH) {
      throw new KafkaError('COORDINATOR_NOT_AVAILABLE', `this leadership (epoch ${epoch}) has given out all ${IDS_PER_EPOCH} producer ids; the next leader will give more`);
    }
    return epoch * IDS_PER_EPOCH + this.next++;
  }
}
