import type { EpochEntry } from '../../broker-runtime/src/log/types.js';
import type { Entry } from './disk.js';
import type { FakeRedis } from './redis.js';

/**
 * What a simulated broker sees of the world, in place of performance.now, setTimeout, ioredis
 * and HTTP. Every call goes through the fake clock and the fake network.
 */
export interface Runtime {
  readonly id: string;
  /** This process's monotonic clock (ms); it may run slightly fast or slow. */
  now(): number;
  timer(ms: number, fn: () => void): Timer;
  /** One Redis round trip; rejects after `timeoutMs` (ioredis commandTimeout) without knowing whether Redis applied it. */
  redis<T>(op: (r: FakeRedis) => T, timeoutMs: number): Promise<T>;
  /** POST /replica/append to another broker. */
  post(to: string, frame: SimFrame, timeoutMs: number): Promise<SimAnswer>;
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

/** A replication request (wire.ts's ReplicateHeader, with records as entries instead of bytes). */
export interface SimPart {
  partition: number;
  prevOffset: number;
  prevEpoch: number;
  hwm: number;
  entries: Entry[];
  truncateTo?: number;
  /** The epoch of the leader's record at truncateTo (-1 if none): the follower cuts only on a conflict. */
  truncateEpoch?: number;
  /** Sent with truncateTo: the leader's log end and epoch cache from the entry covering truncateTo (divergence.ts, decideTruncation). */
  leaderEnd?: number;
  leaderEpochs?: EpochEntry[];
}

export interface SimFrame {
  epoch: number;
  leader: string;
  metaVersion: string;
  /** The topic list rides along when the follower's metadata version differs (topics are fixed here). */
  topics?: true;
  parts: SimPart[];
}

export interface SimPartState {
  partition: number;
  status: 'ok' | 'mismatch';
  logEndOffset: number;
  epochs?: EpochEntry[];
  /** The follower refused the truncation (it would have cut committed records). */
  refused?: string;
}

export type SimAnswer = { ok: true; metaVersion: string; parts: SimPartState[]; incarnation: string } | { ok: false; error: string; epoch?: number };

/** A promise that rejects when the caller's process is gone never settles; so does this one. */
export class TimeoutError extends Error {}
