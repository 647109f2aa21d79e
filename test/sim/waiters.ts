import type { SimLog } from './disk.js';
import type { Runtime, Timer } from './runtime.js';

interface Waiter {
  offset: number;
  resolve(reached: boolean): void;
  reject(err: Error): void;
  timer: Timer | null;
}

/** replication/hwm-waiters.ts: produce requests wait here until the high-water mark passes their offset. */
export class SimWaiters {
  private readonly waiting = new Map<SimLog, Waiter[]>();

  constructor(private readonly rt: Runtime) {}

  wait(log: SimLog, offset: number, timeoutMs: number): Promise<boolean> {
    if (log.highWatermark() > offset) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const w: Waiter = { offset, resolve, reject, timer: null };
      w.timer = this.rt.timer(timeoutMs, () => {
        this.remove(log, w);
        resolve(false);
      });
      let list = this.waiting.get(log);
      if (!list) this.waiting.set(log, (list = []));
      list.push(w);
    });
  }

  notify(log: SimLog): void {
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

  failAll(): void {
    for (const list of this.waiting.values()) {
      for (const w of list) {
        w.timer?.cancel();
        w.reject(new Error('NOT_LEADER'));
      }
    }
    this.waiting.clear();
  }

  private remove(log: SimLog, w: Waiter): void {
    const list = this.waiting.get(log);
    if (!list) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(log);
  }
}
