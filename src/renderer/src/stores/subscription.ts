import { markRaw, reactive, ref } from 'vue';
import type { ClusterApi, ConsumeRequest } from '../../../shared/cluster-api';
import { describeError } from '../bridge';
import { offsetForTimestamp } from '../lib/seekTimestamp';
import type { ViewRecord } from '../lib/viewRecord';

/** Where a subscription starts: the ends, an offset, or the first record written at or after a time. */
export type StartFrom = 'earliest' | 'latest' | number | { timestamp: number };

export interface SubscriptionSpec {
  topic: string;
  partition: number | 'all';
  from: StartFrom;
}

export interface PartitionPosition {
  nextOffset: number | null;
  highWatermark: number | null;
}

/** What the badge says: reading, paused by the user, or every partition's last poll failed. */
export type SubscriptionState = 'live' | 'paused' | 'failing' | 'starting';

const MAX_PER_POLL = 2_000;
// A long list is what this pane is for, but memory is not infinite: past this, the oldest go.
const MAX_RECORDS = 250_000;
const FLUSH_MS = 60;

/**
 * One consumer subscription: a long-poll loop per partition feeding one list. Records live in a
 * plain array (100 000 reactive objects would make Vue crawl); `version` tells views it changed.
 */
export class Subscription {
  readonly records: ViewRecord[] = [];
  readonly version = ref(0);
  /** Bumped when records are removed (clear, or the oldest dropped), so filters start over. */
  generation = 0;
  readonly paused = ref(false);
  readonly error = ref<string | null>(null);
  readonly positions = reactive(new Map<number, PartitionPosition>());
  /** Partitions whose last poll failed, with why: "live" is claimed only while polls are answered. */
  readonly failing = reactive(new Map<number, string>());
  /**
   * Partitions asked to start past their end: the broker answered no records and a high-water mark
   * below the asked offset. Nothing arrives until the partition grows that far.
   */
  readonly beyondEnd = reactive(new Map<number, { offset: number; highWatermark: number }>());
  private closed = false;
  private resumeWaiters: (() => void)[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  /** Records the user picked, as "partition:offset" (for export and re-produce). */
  readonly selected = reactive(new Set<string>());
  /** Per partition, the offset a timestamp start resolved to (shown, so the seek can be checked). */
  readonly seekedTo = reactive(new Map<number, number>());

  constructor(
    readonly id: number,
    readonly spec: SubscriptionSpec,
    private readonly api: ClusterApi,
    /** Long-poll wait for the next request; the store lowers it when many loops share the host. */
    private readonly waitMs: () => number,
    /** The leader's log start of a partition, as the cluster last reported it (where a timestamp search starts). */
    private readonly logStartOf: (partition: number) => number = () => 0,
  ) {
    markRaw(this);
  }

  /** Starts the loops this subscription needs once the topic's partition count is known. */
  ensurePartitions(count: number, topicIsNew: boolean): void {
    const wanted = this.spec.partition === 'all' ? [...Array(count).keys()] : [this.spec.partition];
    for (const p of wanted) {
      if (this.positions.has(p) || p >= count) continue;
      this.positions.set(p, { nextOffset: null, highWatermark: null });
      // A topic that appeared after we subscribed holds only newer records: read them all.
      void this.loop(p, topicIsNew ? 'earliest' : this.spec.from);
    }
  }

  get loopCount(): number {
    return this.closed ? 0 : this.positions.size;
  }

  /** Paused by the user; failing when every partition's last poll failed; starting before any answer. */
  state(): SubscriptionState {
    if (this.paused.value) return 'paused';
    if (this.positions.size > 0 && this.failing.size >= this.positions.size) return 'failing';
    if (this.positions.size === 0) return 'starting';
    return 'live';
  }

  pause(): void {
    this.paused.value = true;
  }

  resume(): void {
    this.paused.value = false;
    this.resumeWaiters.splice(0).forEach((wake) => wake());
  }

  /** The selected records still in the list, in list order. */
  selectedRecords(): ViewRecord[] {
    if (this.selected.size === 0) return [];
    return this.records.filter((r) => this.selected.has(`${r.partition}:${r.offset}`));
  }

  clear(): void {
    this.selected.clear();
    this.records.length = 0;
    this.generation++;
    this.version.value++;
  }

  close(): void {
    this.closed = true;
    this.resume();
  }

  private async loop(partition: number, from: StartFrom): Promise<void> {
    let offset: ConsumeRequest['offset'] | null = typeof from === 'object' ? null : from;
    let backoffMs = 500;
    // Reading a backlog is plain requests; only a reader that has caught up waits (long-polls) for
    // new records. That keeps the few long-poll slots for idle partitions and shows a backlog at once.
    let caughtUp = false;
    while (!this.closed) {
      if (this.paused.value) {
        await new Promise<void>((wake) => this.resumeWaiters.push(wake));
        continue;
      }
      try {
        if (offset === null) {
          const ts = (from as { timestamp: number }).timestamp;
          const found = await offsetForTimestamp(this.api, this.spec.topic, partition, ts, this.logStartOf(partition));
          offset = found.offset;
          this.seekedTo.set(partition, found.offset);
          continue;
        }
        const res = await this.api.consume({
          topic: this.spec.topic,
          partition,
          offset,
          max: MAX_PER_POLL,
          waitMs: caughtUp ? this.waitMs() : 0,
        });
        // Paused while the request was out: drop the answer and re-read it on resume, so the
        // list really stands still from the moment Pause is pressed.
        if (this.closed || this.paused.value) continue;
        this.positions.set(partition, { nextOffset: res.nextOffset, highWatermark: res.highWatermark });
        if (res.records.length === 0 && res.nextOffset > res.highWatermark) this.beyondEnd.set(partition, { offset: res.nextOffset, highWatermark: res.highWatermark });
        else this.beyondEnd.delete(partition);
        offset = res.nextOffset;
        caughtUp = res.records.length === 0 || res.nextOffset >= res.highWatermark;
        this.failing.delete(partition);
        if (this.failing.size === 0) this.error.value = null;
        backoffMs = 500;
        if (res.records.length) this.append(partition, res.records);
      } catch (error) {
        if (this.closed) return;
        const why = `Partition ${partition}: ${describeError(error)}`;
        this.failing.set(partition, why);
        this.error.value = why;
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  private append(partition: number, batch: readonly Omit<ViewRecord, 'partition'>[]): void {
    for (const r of batch) {
      this.records.push({ partition, offset: r.offset, key: r.key, timestamp: r.timestamp, payload: r.payload, headers: r.headers });
    }
    if (this.records.length > MAX_RECORDS) {
      this.records.splice(0, this.records.length - MAX_RECORDS);
      this.generation++;
    }
    // Several partitions answer within milliseconds of each other; one re-render covers them all.
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      this.version.value++;
    }, FLUSH_MS);
  }
}
