import { redisCommandTimeoutMs } from '../../../broker-runtime/src/election/decisions.js';
import { Elector } from '../../../broker-runtime/src/election/elector.js';
import type { AcquireMode, InSyncSet } from '../../../broker-runtime/src/election/lease-store.js';
import type { ElectorRules } from '../../../broker-runtime/src/election/ports.js';
import type { Logger } from '../../../broker-runtime/src/logger.js';
import type { TimePorts, TimerHandle } from '../../../broker-runtime/src/ports/clock.js';
import { Disk } from '../../sim/disk.js';
import { SimBrokerState, SimLeaseStore } from '../../sim/ports.js';
import { FakeRedis } from '../../sim/redis.js';
import { TimeoutError, type Runtime } from '../../sim/runtime.js';

/**
 * Manual time for the elector's specifications: nothing happens until the test advances the
 * clock; timers then fire in order, each followed by every promise it settles.
 */
export class ManualTime implements TimePorts {
  private t = 10_000;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  readonly clock = { now: () => this.t };
  readonly timers = {
    after: (ms: number, fn: () => void): TimerHandle => {
      const entry = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
      this.queue.push(entry);
      return { cancel: () => (entry.cancelled = true) };
    },
    every: (ms: number, fn: () => void): TimerHandle => {
      const after = this.timers.after;
      let current = after(ms, function again() {
        current = after(ms, again);
        fn();
      });
      return { cancel: () => current.cancel() };
    },
    turn: () => new Promise<void>((resolve) => this.timers.after(0, resolve)),
  };

  now(): number {
    return this.t;
  }

  /** Run everything due within the next `ms`, in time order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      this.queue = this.queue.filter((e) => !e.cancelled);
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.at > end) break;
      this.queue.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
    await settle();
  }

  /** Advance in `stepMs` steps, calling `check` after each. */
  async advanceChecking(ms: number, stepMs: number, check: () => void): Promise<void> {
    for (let done = 0; done < ms; done += stepMs) {
      await this.advance(stepMs);
      check();
    }
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export const LEASE_MS = 1000;
export const RENEW_MS = 250;

/**
 * One Redis shared by the brokers of a spec; `down` makes every command fail at once, `hang` never
 * answer (until the command timeout); `hanging` does that for the commands of some brokers only.
 */
export class SpecRedis {
  readonly fake: FakeRedis;
  down = false;
  hang = false;
  readonly hanging = new Set<string>();

  constructor(readonly time: ManualTime) {
    this.fake = new FakeRedis(() => time.now());
  }

  /** Put an in-sync set in Redis with nobody holding the lease (as a leader that left it). */
  recordIsr(isr: InSyncSet): void {
    const won = this.fake.acquire('setup', LEASE_MS, isr.epoch - 1, 'unclean');
    if (!won.won) throw new Error('setup: the lease is held');
    this.fake.writeIsr(won.value, isr);
    this.fake.release(won.value);
  }

  runtime(id: string): Runtime {
    const time = this.time;
    return {
      id,
      now: () => time.now(),
      timer: (ms, fn) => time.timers.after(ms, fn),
      redis: <T>(op: (r: FakeRedis) => T, timeoutMs: number) => {
        if (this.down) return Promise.reject(new Error('Connection is closed.'));
        if (this.hang || this.hanging.has(id)) return new Promise<T>((_, reject) => time.timers.after(timeoutMs, () => reject(new TimeoutError('Command timed out'))));
        return Promise.resolve(op(this.fake));
      },
      post: () => Promise.reject(new Error('no replication in these specs')),
      inFlightLimit: () => 1,
      note: () => {},
    };
  }
}

export interface SpecBroker {
  id: string;
  elector: Elector;
  disk: Disk;
  store: SimLeaseStore;
  elections: { epoch: number; isr: InSyncSet; mode: AcquireMode }[];
  demotions: string[];
}

/** A broker's elector over the spec's Redis and a disk of its own (what it remembers: `disk`). */
export function specBroker(
  redis: SpecRedis,
  id: string,
  o: { disk?: Disk; logEpoch?: number; logEnd?: number; rules?: ElectorRules; start?: boolean; log?: Logger; whyNotLead?: () => string | null } = {},
): SpecBroker {
  const disk = o.disk ?? new Disk(1);
  const store = new SimLeaseStore(redis.runtime(id), redisCommandTimeoutMs(LEASE_MS, RENEW_MS));
  const elector = new Elector(
    store,
    new SimBrokerState(disk),
    {
      id,
      url: `http://${id}`,
      leaseMs: LEASE_MS,
      renewMs: RENEW_MS,
      uncleanElection: false,
      candidacy: () => ({ lastLogEpoch: o.logEpoch ?? -1, logEndTotal: o.logEnd ?? 0 }),
      whyNotLead: o.whyNotLead ?? (() => null),
      storageWritable: () => true,
      log: o.log ?? (() => {}),
      redisDisplay: 'redis',
    },
    redis.time,
    o.rules ?? {},
  );
  const b: SpecBroker = { id, elector, disk, store, elections: [], demotions: [] };
  elector.on('elected', (epoch, isr, mode) => b.elections.push({ epoch, isr, mode }));
  elector.on('demoted', (reason) => b.demotions.push(reason));
  if (o.start !== false) elector.start();
  return b;
}
