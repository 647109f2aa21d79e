import { YakClientError, YakOffsetOutOfRangeError } from './errors.js';
import { sleep } from './retry.js';
import type { ConsumedRecord, GroupStrategy, JoinGroupAnswer, TopicPartitionRef } from './types.js';
import type { YakClient } from './yak-client.js';

export interface GroupConsumerOptions {
  group: string;
  topics: string[];
  strategy?: GroupStrategy;
  clientId?: string;
  /** No heartbeat for this long and the coordinator gives the partitions to the others. Default 10000. */
  sessionTimeoutMs?: number;
  /** How long a rebalance waits for this member to join again. Default: the session timeout. */
  rebalanceTimeoutMs?: number;
  /** Where a partition with no committed offset starts. Default 'earliest'. */
  startFrom?: 'earliest' | 'latest';
  /** Commit processed offsets by itself (after processing, never before). Default true. */
  autoCommit?: boolean;
  /** Auto-commit at most this often; 0 = after every round of fetched batches. Default 1000. */
  autoCommitIntervalMs?: number;
  /** Records per partition fetch. Default 500. */
  maxRecords?: number;
  /** Long-poll this long for new records. Default 500. */
  waitMs?: number;
  /** Called after every join with this member's partitions. */
  onAssign?: (partitions: TopicPartitionRef[], generation: number) => void;
}

export interface GroupRecord<P = unknown> extends ConsumedRecord<P> {
  topic: string;
  partition: number;
}

export interface GroupBatch<P = unknown> {
  topic: string;
  partition: number;
  records: ConsumedRecord<P>[];
  highWatermark: number;
  /** Marks records up to `offset` as processed when eachBatch stops part way (by default the whole batch counts once eachBatch returns). */
  resolveOffset(offset: number): void;
}

export interface RunHandlers<P = unknown> {
  eachRecord?: (record: GroupRecord<P>) => Promise<void> | void;
  eachBatch?: (batch: GroupBatch<P>) => Promise<void> | void;
}

/** The error a handler threw, carried out of run() as it is. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

const REJOIN_CODES = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);
const FATAL_CODES = new Set(['INVALID_REQUEST', 'INCONSISTENT_GROUP_PROTOCOL', 'FORBIDDEN', 'UNAUTHENTICATED', 'UNKNOWN_TOPIC']);
/** Pause between rounds after a failure the client's own retries could not get past (a long election). */
const FAILURE_PAUSE_MS = 500;

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * A member of a consumer group over YAK's REST group API (docs/consumer-groups.md): it joins,
 * heartbeats, fetches its partitions from their committed offsets, hands records to the handler, and
 * commits what the handler finished — after, never before (at-least-once). A rebalance, an expired
 * session or a failover makes it commit what it processed (when the coordinator still allows it)
 * and join again; the client's retries carry every call through a leader change.
 */
export class GroupConsumer<P = unknown> {
  private memberId = '';
  private generationId = -1;
  private assigned: TopicPartitionRef[] = [];
  /** Next offset to fetch, per assigned partition. */
  private readonly positions = new Map<string, number>();
  /** One past the last record the handler finished, per partition: what a commit sends. */
  private readonly processed = new Map<string, number>();
  private readonly committed = new Map<string, number>();
  private readonly paused = new Set<string>();
  private rejoin = true;
  private closing = false;
  private running: Promise<void> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastCommit = 0;
  private readonly abort = new AbortController();
  private readonly settings: Required<Omit<GroupConsumerOptions, 'onAssign' | 'clientId' | 'strategy' | 'rebalanceTimeoutMs'>> & Pick<GroupConsumerOptions, 'onAssign' | 'clientId' | 'strategy' | 'rebalanceTimeoutMs'>;

  constructor(
    private readonly client: YakClient,
    options: GroupConsumerOptions,
  ) {
    if (!options.group) throw new TypeError('group is required');
    if (!Array.isArray(options.topics) || options.topics.length === 0) throw new TypeError('topics must name at least one topic');
    this.settings = { sessionTimeoutMs: 10_000, startFrom: 'earliest', autoCommit: true, autoCommitIntervalMs: 1000, maxRecords: 500, waitMs: 500, ...options };
  }

  get member(): { memberId: string; generation: number } {
    return { memberId: this.memberId, generation: this.generationId };
  }

  assignment(): TopicPartitionRef[] {
    return this.assigned.map((p) => ({ ...p }));
  }

  /** Stop fetching these partitions (all of the topic when none named); the member stays in the group. */
  pause(topic: string, partitions?: number[]): void {
    for (const p of this.partitionsOf(topic, partitions)) this.paused.add(key(topic, p));
  }

  resume(topic: string, partitions?: number[]): void {
    for (const p of this.partitionsOf(topic, partitions)) this.paused.delete(key(topic, p));
  }

  private partitionsOf(topic: string, partitions?: number[]): number[] {
    return partitions ?? this.assigned.filter((a) => a.topic === topic).map((a) => a.partition);
  }

  /** Runs until close() (or a handler throws: then it commits what was processed, leaves, and rejects with that error). */
  run(handlers: RunHandlers<P>): Promise<void> {
    if (this.running) throw new Error('this consumer is running already');
    if (!handlers.eachRecord === !handlers.eachBatch) throw new TypeError('give exactly one of eachRecord and eachBatch');
    this.running = this.loop(handlers);
    return this.running;
  }

  /** Commit what the handler has finished, now. Throws when the coordinator refuses (then the member joins again). */
  async commit(): Promise<void> {
    const refusal = await this.commitProcessed();
    if (refusal) throw refusal;
  }

  /** Graceful: the record (or batch) under way finishes, processed offsets are committed, the member leaves (its partitions move at once). */
  async close(): Promise<void> {
    this.closing = true;
    this.abort.abort();
    if (this.running) await this.running.catch(() => {});
    else await this.leave();
  }

  private async loop(handlers: RunHandlers<P>): Promise<void> {
    try {
      while (!this.closing) {
        try {
          if (this.rejoin) {
            await this.commitProcessed();
            await this.join();
            continue;
          }
          await this.round(handlers);
          if (this.settings.autoCommit && Date.now() - this.lastCommit >= this.settings.autoCommitIntervalMs) await this.commitProcessed();
        } catch (err) {
          if (err instanceof HandlerFailure) throw err;
          if (this.closing) break;
          if (err instanceof YakClientError && FATAL_CODES.has(err.code)) throw err;
          if (err instanceof YakClientError && REJOIN_CODES.has(err.code)) this.rejoinAfter(err);
          else await sleep(FAILURE_PAUSE_MS);
        }
      }
    } catch (err) {
      await this.finish();
      throw err instanceof HandlerFailure ? err.error : err;
    }
    await this.finish();
  }

  private async finish(): Promise<void> {
    this.stopHeartbeats();
    if (this.settings.autoCommit) await this.commitProcessed().catch(() => {});
    await this.leave();
  }

  private async leave(): Promise<void> {
    if (!this.memberId) return;
    const id = this.memberId;
    this.memberId = '';
    await this.client.leaveGroup(this.settings.group, id).catch(() => {});
  }

  private rejoinAfter(err: YakClientError): void {
    if (err.code === 'UNKNOWN_MEMBER_ID') this.memberId = '';
    this.rejoin = true;
  }

  private async join(): Promise<void> {
    this.stopHeartbeats();
    let answer: JoinGroupAnswer;
    try {
      answer = await this.client.joinGroup(
        this.settings.group,
        {
          topics: this.settings.topics,
          ...(this.memberId ? { memberId: this.memberId } : {}),
          ...(this.settings.clientId ? { clientId: this.settings.clientId } : {}),
          ...(this.settings.strategy ? { strategy: this.settings.strategy } : {}),
          sessionTimeoutMs: this.settings.sessionTimeoutMs,
          ...(this.settings.rebalanceTimeoutMs !== undefined ? { rebalanceTimeoutMs: this.settings.rebalanceTimeoutMs } : {}),
        },
        this.abort.signal,
      );
    } catch (err) {
      if (err instanceof YakClientError && err.code === 'UNKNOWN_MEMBER_ID') this.memberId = '';
      throw err;
    }
    this.memberId = answer.member_id;
    this.generationId = answer.generation;
    this.assigned = answer.partitions;
    this.startHeartbeats(answer.heartbeat_interval_ms);
    const mine = new Set(this.assigned.map((p) => key(p.topic, p.partition)));
    for (const map of [this.positions, this.processed, this.committed]) for (const k of [...map.keys()]) if (!mine.has(k)) map.delete(k);
    // Until the committed offsets are known nothing is fetched: a failure here joins again (at once,
    // the coordinator answers a known member of a stable group with its current generation).
    const offsets = new Map((await this.client.groupOffsets(this.settings.group)).offsets.map((committed) => [key(committed.topic, committed.partition), committed.offset]));
    const latest = this.settings.startFrom === 'latest' ? await this.highWatermarks() : new Map<string, number>();
    this.rejoin = false;
    for (const p of this.assigned) {
      const k = key(p.topic, p.partition);
      const committed = offsets.get(k);
      const start = committed ?? latest.get(k) ?? 0;
      this.positions.set(k, start);
      this.processed.set(k, start);
      if (committed !== undefined) this.committed.set(k, committed);
      else this.committed.delete(k);
    }
    this.settings.onAssign?.(this.assignment(), this.generationId);
  }

  private async highWatermarks(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const t of (await this.client.topics()).topics) for (const p of t.partitions) out.set(key(t.name, p.partition), p.high_watermark);
    return out;
  }

  /** One fetch of every assigned, unpaused partition (long polls side by side), then the handler, partition by partition. */
  private async round(handlers: RunHandlers<P>): Promise<void> {
    const active = this.assigned.filter((p) => !this.paused.has(key(p.topic, p.partition)));
    if (active.length === 0) {
      await sleep(Math.min(this.settings.waitMs, 200));
      return;
    }
    const generation = this.generationId;
    const answers = await Promise.all(active.map((p) => this.fetch(p)));
    for (const a of answers) {
      if (!a) continue;
      if (a.records.length === 0) {
        // Only a compacted topic's gaps lay below the high-water mark: read on after them.
        const k = key(a.topic, a.partition);
        if (a.next_offset > (this.positions.get(k) ?? 0)) this.positions.set(k, a.next_offset);
        continue;
      }
      // A rebalance under way: stop handing out records of partitions that may be someone else's soon.
      if (this.rejoin || this.closing || generation !== this.generationId) return;
      await this.handle(handlers, a.topic, a.partition, a.records, a.high_watermark);
    }
  }

  private async fetch(p: TopicPartitionRef) {
    const k = key(p.topic, p.partition);
    const from = this.positions.get(k) ?? 0;
    try {
      return await this.client.consume<P>(p.topic, p.partition, from, { max: this.settings.maxRecords, waitMs: this.settings.waitMs, signal: this.abort.signal });
    } catch (err) {
      if (err instanceof YakOffsetOutOfRangeError) {
        // Retention deleted what was committed: go on from the log start, as Kafka's auto.offset.reset=earliest.
        this.positions.set(k, err.logStartOffset);
        if ((this.processed.get(k) ?? 0) < err.logStartOffset) this.processed.set(k, err.logStartOffset);
        return null;
      }
      if (this.closing) return null;
      throw err;
    }
  }

  private async handle(handlers: RunHandlers<P>, topic: string, partition: number, records: ConsumedRecord<P>[], highWatermark: number): Promise<void> {
    const k = key(topic, partition);
    try {
      if (handlers.eachBatch) {
        let resolved: number | null = null;
        await handlers.eachBatch({ topic, partition, records, highWatermark, resolveOffset: (offset) => (resolved = offset) });
        const last = resolved ?? records[records.length - 1]!.offset;
        this.processed.set(k, last + 1);
        this.positions.set(k, last + 1);
        return;
      }
      for (const r of records) {
        if (this.closing) return; // close(): the record under way finishes, the rest wait for the next holder
        await handlers.eachRecord!({ ...r, topic, partition });
        this.processed.set(k, r.offset + 1);
        this.positions.set(k, r.offset + 1);
      }
    } catch (err) {
      throw new HandlerFailure(err);
    }
  }

  /** Commits processed offsets above the committed ones; a refusal (rebalance, stale generation) is returned, not thrown. */
  private async commitProcessed(): Promise<YakClientError | null> {
    if (!this.memberId || this.generationId < 0) return null;
    const offsets = [...this.processed].filter(([k, processedUpTo]) => processedUpTo > (this.committed.get(k) ?? -1)).map(([k, offset]) => {
      const [topic, partition] = k.split('\u0000') as [string, string];
      return { topic, partition: Number(partition), offset };
    });
    this.lastCommit = Date.now();
    if (offsets.length === 0) return null;
    try {
      const answer = await this.client.commitOffsets(this.settings.group, offsets, { memberId: this.memberId, generation: this.generationId });
      for (const committed of answer.offsets) this.committed.set(key(committed.topic, committed.partition), committed.committed_offset);
      return null;
    } catch (err) {
      if (err instanceof YakClientError && REJOIN_CODES.has(err.code)) {
        this.rejoinAfter(err);
        return err;
      }
      throw err;
    }
  }

  private startHeartbeats(intervalMs: number): void {
    this.stopHeartbeats();
    let inFlight = false;
    const beat = async () => {
      const { memberId, generationId } = this;
      if (!memberId || this.rejoin || inFlight) return;
      inFlight = true;
      try {
        await this.client.heartbeat(this.settings.group, memberId, generationId);
      } catch (err) {
        if (err instanceof YakClientError && REJOIN_CODES.has(err.code) && memberId === this.memberId) this.rejoinAfter(err);
      } finally {
        inFlight = false;
      }
    };
    this.heartbeatTimer = setInterval(() => void beat(), Math.max(50, intervalMs));
    this.heartbeatTimer.unref();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}
