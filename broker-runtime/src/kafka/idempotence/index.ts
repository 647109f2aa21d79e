import type { PartitionLog } from '../../log/types.js';
import type { KafkaBackend } from '../backend.js';
import { PartitionProducers, ProducerBudget } from './partition-producers.js';

export { MAX_BROKER_PRODUCERS, PartitionProducers, ProducerBudget, type Verdict, type Written } from './partition-producers.js';
export { encodeMarker, parseMarker, PRODUCER_MARKER, type ProducerBatch } from './producer-marker.js';

/** One broker's idempotent-producer state: each partition's producers. */
export interface Idempotence {
  producers(log: PartitionLog): PartitionProducers;
}

const byBackend = new WeakMap<KafkaBackend, Idempotence>();

/** The state of the broker behind `backend` (one per broker process: every connection shares it). */
export function idempotenceOf(backend: KafkaBackend): Idempotence {
  let state = byBackend.get(backend);
  if (!state) {
    const tables = new WeakMap<PartitionLog, PartitionProducers>();
    // One count for every partition: a client inventing producer ids cannot fill each partition's table.
    const budget = new ProducerBudget();
    state = {
      producers(log) {
        let t = tables.get(log);
        if (!t) tables.set(log, (t = new PartitionProducers(log, budget)));
        return t;
      },
    };
    byBackend.set(backend, state);
  }
  return state;
}
