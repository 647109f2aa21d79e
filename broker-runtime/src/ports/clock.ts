import { performance } from 'node:perf_hooks';

/**
 * Time as the election and replication classes see it. Production passes the process's monotonic
 * clock and Node's timers (`systemClock`, `systemTimers`); the simulator (test/sim) passes its
 * fake clock, which may drift and stop, so the same classes run there unchanged.
 */
export interface Clock {
  /** Monotonic milliseconds (performance.now() in production); only differences mean anything. */
  now(): number;
}

export interface Timers {
  /** Run `fn` once after `ms`; the returned handle cancels it. */
  after(ms: number, fn: () => void): TimerHandle;
  /** Run `fn` every `ms` until cancelled; it does not keep the process alive by itself. */
  every(ms: number, fn: () => void): TimerHandle;
  /** Resolve after the I/O callbacks already due have run (setImmediate). */
  turn(): Promise<void>;
}

export interface TimerHandle {
  cancel(): void;
}

export const systemClock: Clock = { now: () => performance.now() };

export const systemTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
  turn: () => new Promise<void>((resolve) => setImmediate(resolve)),
};

/** Clock and timers together: what a class that keeps time needs. */
export interface TimePorts {
  clock: Clock;
  timers: Timers;
}

export const systemTime: TimePorts = { clock: systemClock, timers: systemTimers };
