import type { FakeRedis } from './redis.js';

/**
 * What a simulated broker sees of the world, in place of performance.now, setTimeout, ioredis
 * and HTTP (the ports in ports.ts are built over it). Every call goes through the fake clock and the fake network.
 */
export interface Runtime {
  readonly id: string;
  /** This process's monotonic clock (ms); it may run slightly fast or slow. */
  now(): number;
  timer(ms: number, fn: () => void): Timer;
  /** One Redis round trip; rejects after `timeoutMs` (ioredis commandTimeout) without knowing whether Redis applied it. */
  redis<T>(op: (r: FakeRedis) => T, timeoutMs: number): Promise<T>;
  /** POST /replica/append to another broker: the frame's bytes and its x-yak-frame-auth header, the answer's bytes. */
  post(to: string, frame: Buffer, auth: string, timeoutMs: number): Promise<Buffer>;
  /** Frames that may be in flight to `to` now: the run's `streams` on an open stream, else 1 (see World.postOnStream). */
  inFlightLimit(to: string): number;
  note(line: string): void;
}

export interface Timer {
  cancel(): void;
}

/** What the checker is told as it happens. */
export interface Probe {
  /** `mode` is how the lease was taken ('recover': Redis had no in-sync set). */
  elected(node: string, epoch: number, mode: 'isr' | 'recover' | 'unclean'): void;
  /** A produce was answered 200: the records are acknowledged. */
  acked(node: string, partition: number, offset: number, value: string): void;
  /** A produce was refused (definite: before anything was appended) or ended unknown (after appending). */
  refused(node: string, value: string, appended: boolean, why: string): void;
}

/** A promise that rejects when the caller's process is gone never settles; so does this one. */
export class TimeoutError extends Error {}
