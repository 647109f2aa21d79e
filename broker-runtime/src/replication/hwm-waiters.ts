import type { PartitionLog } from '../log/types.js';
import type { TimerHandle, Timers } from '../ports/clock.js';

interface Waiter {
  offset: number;
  resolve: (reached: boolean) => void;
  reject: (err: Error) => void;
  timer: TimerHandle | null;
}

/**
 * Promises that settle when a partition's high-water mark passes an offset: produce requests wait
 * here for their records to commit, long-polling consumers for new committed records.
 */
export class HighWatermarkWaiters {
  private readonly waiting = new Map<PartitionLog, Waiter[]>();

  constructor(private readonly timers: Timers) {}

  /** Resolves true once hwm > offset, false after timeoutMs. */
  wait(log: PartitionLog, offset: number, timeoutMs: number): Promise<boolean> {
    if (log.highWatermark() > offset) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const w: Waiter = { offset, resolve, reject, timer: null };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        w.timer = this.timers.after(timeoutMs, () => {
          this.remove(log, w);
          resolve(false);
        });
      }
      let list = this.waiting.get(log);
      if (!list) this.waiting.set(log, (list = []));
      list.push(w);
    });
  }

  /** The partition's high-water mark moved: settle everyone it passed. */
  notify(log: PartitionLog): void {
    const list = this.waiting.get(log);
    if (!list || list.length === 0) return;
    const hwm = log.highWatermark();
    const keep: Waiter[] = [];
    for (const w of list) {
      if (hwm > w.offset) {
        w.timer?.cancel();
        w.resolve(true);
      } else keep.push(w);
    }
    if (keep.length) this.waiting.set(log, keep);
    else this.waiting.delete(log);
  }

  /** Fail every waiter (leadership lost: nothing waiting here will be acknowledged by us). */
  failAll(err: Error): void {
    for (const list of this.waiting.values()) {
      for (const w of list) {
        w.timer?.cancel();
        w.reject(err);
      }
    }
    this.waiting.clear();
  }

  /** Settle every waiter as not reached (shutdown of read waiters). */
  releaseAll(): void {
    for (const list of this.waiting.values()) {
      for (const w of list) {
        w.timer?.cancel();
        w.resolve(false);
      }
    }
    this.waiting.clear();
  }

  private remove(log: PartitionLog, w: Waiter): void {
    const list = this.waiting.get(log);
    if (!list) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(log);
  }
}
