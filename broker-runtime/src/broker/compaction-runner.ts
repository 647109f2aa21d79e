import { LATEST_WINS, type CompactionRule } from '../log/compaction.js';
import { DEFAULT_DELETE_RETENTION_MS, compacts } from '../log/topic-config.js';
import type { LogManager, TopicInfo } from '../log/types.js';
import type { Logger } from '../logger.js';

export interface CompactionRunnerOptions {
  logs: LogManager;
  intervalMs: number;
  /** Topics compacted whatever their config says (__consumer_offsets), each with the rule that picks what stays. */
  alwaysCompacted: ReadonlyMap<string, CompactionRule>;
  log: Logger;
  now?: () => number;
}

/**
 * Every intervalMs, on every broker (replicas compact their own copies, as in Kafka; only closed
 * segments below each replica's high-water mark are touched): compact each partition of each topic
 * whose cleanup.policy includes `compact`. One pass at a time; a failing partition is logged and
 * tried again at the next pass.
 */
export class CompactionRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly o: CompactionRunnerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.pass().finally(() => (this.running = null));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The rule compacting `topic`, or undefined when it is not compacted. */
  ruleFor(topic: TopicInfo): CompactionRule | undefined {
    return this.o.alwaysCompacted.get(topic.name) ?? (compacts(topic.config) ? LATEST_WINS : undefined);
  }

  /** One pass over every compacted partition; resolves when done. */
  async pass(): Promise<void> {
    const nowMs = (this.o.now ?? Date.now)();
    for (const topic of this.o.logs.topics()) {
      const rule = this.ruleFor(topic);
      if (!rule) continue;
      const deleteRetentionMs = topic.config?.['delete.retention.ms'] ?? DEFAULT_DELETE_RETENTION_MS;
      for (let p = 0; p < topic.partitions; p++) {
        const log = this.o.logs.partition(topic.name, p);
        if (!log) continue;
        try {
          const r = await log.compact(rule, { nowMs, deleteRetentionMs });
          if (r.segments > 0) this.o.log('info', `compaction: ${topic.name}/${p}: ${r.segments} segment(s) rewritten, ${r.removed} superseded record(s) removed, ${r.bytesBefore} -> ${r.bytesAfter} bytes`, 'log.compacted', { topic: topic.name, partition: p, ...r });
        } catch (err) {
          this.o.log('warn', `compaction of ${topic.name}/${p} failed (tried again next pass): ${(err as Error).message}`);
        }
      }
    }
  }
}
