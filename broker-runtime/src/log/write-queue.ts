/** An append waiting in the queue, settled by whoever writes it. */
export interface PendingAppend<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

interface PendingTask {
  run: () => Promise<unknown>;
  /** Runs even when the queue refuses work (closing a failed log). */
  force: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface WriteQueueHandlers<T, R> {
  /** Write a group of appends and settle each of them (never throws). */
  writeGroup: (group: PendingAppend<T, R>[]) => Promise<void>;
  /** Whether `next` may join a group that `first` started and that holds `groupWeight` so far. */
  canJoin: (first: T, next: T, groupWeight: number) => boolean;
  /** A rough size of an append, summed into groupWeight. */
  weight: (item: T) => number;
  /** An error when nothing may run any more (closed, failed), else undefined. */
  refusal: () => Error | undefined;
}

/** Appends handed to one writeGroup call at most. */
const MAX_GROUP = 1024;

/**
 * Runs a log's changes one at a time, in call order, so writers never interleave. Appends that
 * queue up behind a running change are handed over together, so they can go to disk in one write
 * (and one fsync): group commit, without any timer.
 */
export class WriteQueue<T, R> {
  private readonly queue: ({ kind: 'append'; call: PendingAppend<T, R> } | { kind: 'task'; call: PendingTask })[] = [];
  private running = false;

  constructor(private readonly handlers: WriteQueueHandlers<T, R>) {}

  append(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => this.push({ kind: 'append', call: { item, resolve, reject } }));
  }

  /** Run `run` alone, after everything queued before it; `force` runs it even if work is refused. */
  task<V>(run: () => Promise<V>, force = false): Promise<V> {
    return new Promise<V>((resolve, reject) => this.push({ kind: 'task', call: { run, force, resolve: resolve as (v: unknown) => void, reject } }));
  }

  private push(entry: WriteQueue<T, R>['queue'][number]): void {
    this.queue.push(entry);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let head = this.queue[0]; head; head = this.queue[0]) {
        const refusal = this.handlers.refusal();
        if (refusal && !(head.kind === 'task' && head.call.force)) {
          this.queue.shift();
          head.call.reject(refusal);
        } else if (head.kind === 'task') {
          this.queue.shift();
          try {
            head.call.resolve(await head.call.run());
          } catch (err) {
            head.call.reject(err);
          }
        } else {
          await this.handlers.writeGroup(this.takeGroup(head.call.item));
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** The appends at the head of the queue that may be written together with the first. */
  private takeGroup(first: T): PendingAppend<T, R>[] {
    let n = 1;
    let weight = this.handlers.weight(first);
    while (n < MAX_GROUP && n < this.queue.length) {
      const next = this.queue[n]!;
      if (next.kind !== 'append' || !this.handlers.canJoin(first, next.call.item, weight)) break;
      weight += this.handlers.weight(next.call.item);
      n++;
    }
    return this.queue.splice(0, n).map((e) => e.call as PendingAppend<T, R>);
  }
}
