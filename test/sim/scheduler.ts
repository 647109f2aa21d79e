/**
 * The fake clock and the event queue. Simulated time only moves when the next event is taken;
 * events at the same time run in the order they were scheduled, so a run is a pure function of
 * its seed.
 */
export interface SimEvent {
  time: number;
  seq: number;
  /** The process the event belongs to (its timers, its incoming messages), or null for the world's own. */
  owner: string | null;
  /** The owner's incarnation the event belongs to; ANY for messages addressed to whoever runs then. */
  inc: number;
  fn: () => void;
  cancelled: boolean;
}

export const ANY = -1;

export class Scheduler {
  now = 0;
  private heap: SimEvent[] = [];
  private seq = 0;

  at(time: number, fn: () => void, owner: string | null = null, inc = ANY): SimEvent {
    const ev: SimEvent = { time: Math.max(time, this.now), seq: this.seq++, owner, inc, fn, cancelled: false };
    this.push(ev);
    return ev;
  }

  after(delay: number, fn: () => void, owner: string | null = null, inc = ANY): SimEvent {
    return this.at(this.now + Math.max(0, delay), fn, owner, inc);
  }

  /** Put an event back (a paused process resumed): it runs now, after those already due, in its old order. */
  requeue(ev: SimEvent): void {
    ev.time = this.now;
    ev.seq = this.seq++;
    this.push(ev);
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    if (!top) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    this.now = top.time;
    return top;
  }

  size(): number {
    return this.heap.length;
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
