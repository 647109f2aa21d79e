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

  constructor(private readonly options: RetentionRunnerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running && this.options.active()) this.running = this.pass().finally(() => (this.running = null));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over every partition; resolves when done. */
  async pass(): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    for (const topic of this.options.logs.topics()) {
      // cleanup.policy=compact alone: compaction, not retention, bounds the topic (Kafka).
      if (!deletes(topic.config)) continue;
      const policy = retentionPolicy(this.options.defaults, topic.config);
      if (policy.retentionMs === null && policy.retentionBytes === null) continue;
      for (let p = 0; p < topic.partitions; p++) {
        if (!this.options.active()) return;
        const log = this.options.logs.partition(topic.name, p);
        if (!log) continue;
        try {
          const deleted = await log.applyRetention(policy, now);
          if (deleted.deleteCount > 0) {
            this.options.log('info', `retention: ${topic.name}/${p} now starts at offset ${deleted.logStartOffset} (${deleted.reasons.join('; ')})`);
            this.options.onDeleted(log);
          }
        } catch (err) {
          this.options.log('warn', `retention of ${topic.name}/${p} failed (tried again next pass): ${(err as Error).message}`);
        }
      }
    }
  }
}
