import type { RetentionPolicy } from '../log/retention.js';
import { deletes, retentionPolicy } from '../log/topic-config.js';
import type { LogManager, PartitionLog } from '../log/types.js';
import type { Logger } from '../logger.js';

export interface RetentionRunnerOptions {
  logs: LogManager;
  /** --retention-hours / --retention-bytes. */
  defaults: RetentionPolicy;
  intervalMs: number;
  /** Whether this broker decides retention now (the leader that may write). */
  active(): boolean;
  /** Segments of `log` were deleted: followers should hear the new log start soon. */
  onDeleted(log: PartitionLog): void;
  log: Logger;
  now?: () => number;
}

/**
 * Every intervalMs, on the leader only: apply each topic's retention (its overrides over the broker
 * defaults) to each of its partitions. One pass at a time; a failing partition is logged and
 * tried again at the next pass.
 */
export class RetentionRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly o: RetentionRunnerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running && this.o.active()) this.running = this.pass().finally(() => (this.running = null));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over every partition; resolves when done. */
  async pass(): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    for (const topic of this.o.logs.topics()) {
      // cleanup.policy=compact alone: compaction, not retention, bounds the topic (Kafka).
      if (!deletes(topic.config)) continue;
      const policy = retentionPolicy(this.o.defaults, topic.config);
      if (policy.retentionMs === null && policy.retentionBytes === null) continue;
      for (let p = 0; p < topic.partitions; p++) {
        if (!this.o.active()) return;
        const log = this.o.logs.partition(topic.name, p);
        if (!log) continue;
        try {
          const d = await log.applyRetention(policy, now);
          if (d.deleteCount > 0) {
            this.o.log('info', `retention: ${topic.name}/${p} now starts at offset ${d.logStartOffset} (${d.reasons.join('; ')})`);
            this.o.onDeleted(log);
          }
        } catch (err) {
          this.o.log('warn', `retention of ${topic.name}/${p} failed (tried again next pass): ${(err as Error).message}`);
        }
      }
    }
  }
}
