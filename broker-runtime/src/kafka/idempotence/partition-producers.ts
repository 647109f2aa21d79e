import type { PartitionLog } from '../../log/types.js';
import { KafkaError } from '../protocol/error-codes.js';
import { addSequence, lastSequence, parseMarker, PRODUCER_MARKER, RETAINED_BATCHES, type ProducerBatch } from './producer-marker.js';

export { RETAINED_BATCHES } from './producer-marker.js';
/** Producers remembered per partition; past it the one unused longest is forgotten (then treated as new, as Kafka after producer.id.expiration.ms). */
export const MAX_PRODUCERS = 10_000;
/**
 * Producers remembered by one broker over all its partitions (each ~0.6 KB of heap with its last
 * batch: 100,000 took 62 MB, measured with process.memoryUsage() after gc). A Produce may carry
 * any producer id — none has to come from InitProducerId, as in Kafka — so without it a client
 * inventing ids filled MAX_PRODUCERS on every partition: 10,000 × 1,000 partitions is 6 GB
 * (Kafka's KIP-936 is the same problem). Past it the producer unused longest, on whatever
 * partition, is forgotten, as past MAX_PRODUCERS.
 */
export const MAX_BROKER_PRODUCERS = 100_000;

/**
 * The broker-wide count of remembered producers and which was used least recently, over every
 * partition's table (one per broker: idempotence/index.ts).
 */
export class ProducerBudget {
  /** `${table id}:${producer id}` in least recently used order (a Map keeps insertion order). */
  private readonly order = new Map<string, { table: PartitionProducers; producerId: number }>();

  constructor(readonly limit = MAX_BROKER_PRODUCERS) {}

  get size(): number {
    return this.order.size;
  }

  /** `producerId` of `table` was just used: last to be forgotten; forgets the least recently used producers past the limit. */
  used(table: PartitionProducers, producerId: number): void {
    const key = `${table.id}:${producerId}`;
    this.order.delete(key);
    this.order.set(key, { table, producerId });
    while (this.order.size > this.limit) {
      const [oldest, e] = this.order.entries().next().value!;
      this.order.delete(oldest);
      e.table.forget(e.producerId);
    }
  }

  /** `table` no longer remembers `producerId`. */
  dropped(table: PartitionProducers, producerId: number): void {
    this.order.delete(`${table.id}:${producerId}`);
  }
}

let nextTableId = 0;
/**
 * How far back a new leader reads its log for producers' batches: the dedup window across a
 * failover. A producer whose last batch is further back is unknown to it and its next batch is
 * accepted with any sequence (Kafka does the same once a producer's state has expired).
 */
export const SCAN_RECORDS = 1_000_000;
const SCAN_CHUNK_RECORDS = 10_000;
const SCAN_CHUNK_BYTES = 4 << 20;

export interface Written {
  baseOffset: number;
  lastOffset: number;
}

interface Appended {
  baseSequence: number;
  lastSequence: number;
  /** Where the batch went in the log: settles when its append does (before it commits). */
  written: Promise<Written>;
}

interface ProducerEntry {
  epoch: number;
  lastSequence: number;
  batches: Appended[];
}

/** What to do with an idempotent batch: append it, or answer it with the offsets of the same batch already in the log. */
export type Verdict = { kind: 'append' } | { kind: 'duplicate'; written: Promise<Written> };
const APPEND: Verdict = { kind: 'append' };

/**
 * The idempotent producers of one partition as the leader knows them: each one's epoch, last
 * sequence and last few batches with their offsets (Kafka's ProducerStateManager).
 *
 * It is rebuilt from the log itself (the `yak.producer` markers, producer-marker.ts) whenever this
 * broker leads under an epoch it was not built for — a new leader knows exactly the batches its
 * own copy holds, which are the ones that may have been acknowledged — and after an append whose
 * outcome it does not know. Between rebuilds it follows appends as they are made: the check and
 * the reservation happen in the same synchronous step as the log append (Broker.produce's
 * beforeAppend), so pipelined batches are judged in the order they enter the log.
 */
export class PartitionProducers {
  private producers = new Map<number, ProducerEntry>();
  private builtFor = -1;
  private stale = true;
  private rebuilding: { epoch: number; done: Promise<void> } | null = null;
  private readonly inflight = new Set<Promise<Written>>();
  readonly id = nextTableId++;

  constructor(
    readonly log: PartitionLog,
    /** Shared by every partition of the broker; a table of its own when none is given (tests). */
    private readonly budget: ProducerBudget = new ProducerBudget(),
  ) {}

  /** Producers this table remembers. */
  get size(): number {
    return this.producers.size;
  }

  /** Forget `producerId` (the broker-wide budget is full and it was used least recently): its next batch is judged as a new producer's. */
  forget(producerId: number): void {
    this.producers.delete(producerId);
  }

  /** Null when the table is current for leader epoch `epoch`; else a promise that resolves once it is. */
  ready(epoch: number): Promise<void> | null {
    if (!this.stale && this.builtFor === epoch) return null;
    if (this.rebuilding?.epoch === epoch) return this.rebuilding.done;
    const done = this.rebuild(epoch).finally(() => {
      if (this.rebuilding?.done === done) this.rebuilding = null;
    });
    this.rebuilding = { epoch, done };
    return done;
  }

  /** Kafka's sequence rules (ProducerAppendInfo.checkSequence); throws the refusal. */
  check(b: ProducerBatch): Verdict {
    const e = this.producers.get(b.producerId);
    // A producer with no state here (new, or its batches are past the scan window): any sequence.
    if (!e) return APPEND;
    if (b.producerEpoch < e.epoch) {
      throw new KafkaError('INVALID_PRODUCER_EPOCH', `producer ${b.producerId} epoch ${b.producerEpoch} is older than its current epoch ${e.epoch}`);
    }
    if (b.producerEpoch > e.epoch) {
      if (b.baseSequence !== 0) throw new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${b.producerId}'s new epoch ${b.producerEpoch} must start at sequence 0, not ${b.baseSequence}`);
      return APPEND;
    }
    const last = lastSequence(b);
    const same = e.batches.find((x) => x.baseSequence === b.baseSequence && x.lastSequence === last);
    if (same) return { kind: 'duplicate', written: same.written };
    const expected = addSequence(e.lastSequence, 1);
    if (b.baseSequence !== expected) {
      throw new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${b.producerId} epoch ${b.producerEpoch}: expected sequence ${expected}, got ${b.baseSequence}`);
    }
    return APPEND;
  }

  /**
   * Called right before the batch is appended to the log: checks it again and takes its sequences.
   * Answers what to call once the append settles (with where it went, or null if it failed).
   */
  reserve(b: ProducerBatch): (written: Written | null) => void {
    if (this.stale || this.rebuilding) throw new KafkaError('NOT_LEADER_OR_FOLLOWER', 'the producer state is being rebuilt; retry');
    if (this.check(b).kind !== 'append') throw new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${b.producerId}: sequence ${b.baseSequence} was taken meanwhile`);
    let settle!: (w: Written | null) => void;
    const written = new Promise<Written>((resolve, reject) => {
      settle = (w) => (w ? resolve(w) : reject(new KafkaError('REQUEST_TIMED_OUT', 'the original batch was not written; retry')));
    });
    written.catch(() => {});
    this.remember(b, written);
    this.inflight.add(written);
    return (w) => {
      this.inflight.delete(written);
      // Whether a failed append left anything in the log is not known here: ask the log.
      if (!w) this.stale = true;
      settle(w);
    };
  }

  /** What the table knows, in its order (least recently used first): to compare two tables (tests, diagnostics). */
  async snapshot(): Promise<{ producerId: number; epoch: number; lastSequence: number; batches: { baseSequence: number; lastSequence: number; written: Written | null }[] }[]> {
    const out = [];
    for (const [producerId, e] of this.producers) {
      const batches = [];
      for (const b of e.batches) batches.push({ baseSequence: b.baseSequence, lastSequence: b.lastSequence, written: await b.written.catch(() => null) });
      out.push({ producerId, epoch: e.epoch, lastSequence: e.lastSequence, batches });
    }
    // By producer id, not by first appearance in the log: compaction removes a producer's older
    // markers, so the same state rebuilt after it meets the producers in another order.
    return out.sort((a, b) => a.producerId - b.producerId);
  }

  /** After a duplicate's original append turned out to have failed: the log says what is there. */
  markStale(): void {
    this.stale = true;
  }

  private remember(b: ProducerBatch, written: Promise<Written>, into = this.producers): void {
    let e = into.get(b.producerId);
    if (!e || b.producerEpoch !== e.epoch) e = { epoch: b.producerEpoch, lastSequence: -1, batches: [] };
    else into.delete(b.producerId); // re-inserted below: the Map's order is least recently used first
    e.lastSequence = lastSequence(b);
    e.batches.push({ baseSequence: b.baseSequence, lastSequence: e.lastSequence, written });
    if (e.batches.length > RETAINED_BATCHES) e.batches.shift();
    into.set(b.producerId, e);
    if (into.size > MAX_PRODUCERS) {
      const oldest = into.keys().next().value!;
      into.delete(oldest);
      if (into === this.producers) this.budget.dropped(this, oldest);
    }
    if (into === this.producers) this.budget.used(this, b.producerId);
  }

  /** Reads the log's last SCAN_RECORDS records for markers, once every append in flight has settled. */
  private async rebuild(epoch: number): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    const producers = new Map<number, ProducerEntry>();
    const end = this.log.logEndOffset();
    let from = Math.max(this.log.logStartOffset(), end - SCAN_RECORDS);
    try {
      while (from < end) {
        const records = await this.log.read(from, end, SCAN_CHUNK_RECORDS, SCAN_CHUNK_BYTES);
        if (records.length === 0) break;
        for (const r of records) {
          const b = parseMarker(r.headers[PRODUCER_MARKER]);
          if (b) this.remember(b, Promise.resolve({ baseOffset: r.offset, lastOffset: r.offset + b.count - 1 }), producers);
        }
        from = records[records.length - 1]!.offset + 1;
      }
    } catch (err) {
      throw new KafkaError('NOT_LEADER_OR_FOLLOWER', `could not read the log for producer state: ${(err as Error).message}; retry`);
    }
    for (const id of this.producers.keys()) if (!producers.has(id)) this.budget.dropped(this, id);
    this.producers = producers;
    // In the table's order (least recently used first); past the broker's budget the oldest go.
    for (const id of [...producers.keys()]) if (producers.has(id)) this.budget.used(this, id);
    this.builtFor = epoch;
    this.stale = false;
  }
}
