import type { LeaseStore } from '../election/lease-store.js';
import type { LogManager, PartitionLog, TopicInfo } from '../log/types.js';
import type { Logger } from '../logger.js';

const MIRROR_INTERVAL_MS = 250;

/**
 * The leader mirrors each partition's high-water mark and the topic list into Redis for tools and
 * dashboards — coalesced on a timer, never a Redis round trip per record. Writes are fenced by the
 * lease, so a deposed leader cannot overwrite its successor's figures.
 */
export class HighWatermarkMirror {
  private timer: NodeJS.Timeout | null = null;
  /** Keyed by the log itself: no key string built per partition per tick (10,000 partitions, 4 ticks a second). */
  private readonly sent = new Map<PartitionLog, number>();
  private pendingTopics: TopicInfo[] | null = null;
  private busy = false;

  constructor(
    private readonly logs: LogManager,
    private readonly store: LeaseStore,
    private readonly fence: () => string | null,
    private readonly log: Logger,
  ) {}

  start(topics: TopicInfo[]): void {
    this.sent.clear();
    this.pendingTopics = topics;
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), MIRROR_INTERVAL_MS);
    this.timer.unref();
  }

  topicsChanged(topics: TopicInfo[]): void {
    this.pendingTopics = topics;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async flush(): Promise<void> {
    const fence = this.fence();
    if (!fence || this.busy) return;
    this.busy = true;
    try {
      if (this.pendingTopics) {
        const topics = this.pendingTopics;
        this.pendingTopics = null;
        await this.store.mirrorHash(fence, 'topics', new Map(topics.map((t) => [t.name, t.partitions])));
      }
      const changed = new Map<PartitionLog, number>();
      for (const log of this.logs.all()) {
        const highWatermark = log.highWatermark();
        if (this.sent.get(log) !== highWatermark) changed.set(log, highWatermark);
      }
      if (changed.size === 0) return;
      const fields = new Map<string, number>();
      for (const [log, highWatermark] of changed) fields.set(`${log.topic}/${log.partition}`, highWatermark);
      if (await this.store.mirrorHash(fence, 'hwm', fields)) for (const [log, v] of changed) this.sent.set(log, v);
    } catch (err) {
      this.log('debug', `mirroring to redis failed: ${(err as Error).message}`);
    } finally {
      this.busy = false;
    }
  }
}
