import { writableUntil } from './decisions.js';
import { storableOrZero } from './epoch-range.js';
import type { Candidacy } from './lease-store.js';

/**
 * The elector's state transitions as pure functions (events in, state and effects out, as etcd's
 * raft `Step`): no Redis, no timers, no clock inside. `Elector` performs the effects — the Redis
 * calls, the timers, the log lines and events — and feeds what happened back in as events.
 */

/** Who this broker is in the election, and until when it may write if it leads. */
export interface LeaseState {
  role: 'leader' | 'follower';
  /** The highest leader epoch this broker knows of (its own while leader). */
  epoch: number;
  /** Monotonic ms after which a leader must not commit (0 unless leader). */
  deadline: number;
}

export type LeaseEvent =
  /** The acquire sent at `sentAt` won the lease with `epoch`. */
  | { type: 'won'; epoch: number; sentAt: number }
  /** The renew sent at `sentAt` was applied by Redis. */
  | { type: 'renewed'; sentAt: number }
  /** Redis answered that the lease is not ours (someone else's, or expired there). */
  | { type: 'renew-refused' }
  /** The renew failed (timeout, connection): the outcome is unknown. */
  | { type: 'renew-failed'; now: number; why: string }
  /** The deadline timer fired. */
  | { type: 'deadline-check'; now: number }
  /** An epoch seen elsewhere (Redis's lease holder, a leader's frame). */
  | { type: 'epoch-seen'; epoch: number }
  /** Give leadership up on purpose (shutdown, storage refusing writes). */
  | { type: 'step-down'; reason: string };

export type LeaseEffect =
  /** Stop leading: stop writing, drop the lease value and frame key, tell the broker. */
  | { type: 'demote'; reason: string }
  /** (Re)arm the timer that demotes at `at` unless a renew extends the deadline first. */
  | { type: 'arm-deadline'; at: number };

export interface Transition {
  state: LeaseState;
  effects: LeaseEffect[];
}

export const initialLease: LeaseState = { role: 'follower', epoch: 0, deadline: 0 };

/** One event: the next state and what to do. Pure. */
export function leaseStep(s: LeaseState, e: LeaseEvent, leaseMs: number): Transition {
  switch (e.type) {
    case 'won': {
      // The lease runs from when the acquire was *sent*: Redis set the expiry no earlier than that.
      const deadline = writableUntil(e.sentAt, leaseMs);
      return { state: { role: 'leader', epoch: e.epoch, deadline }, effects: [{ type: 'arm-deadline', at: deadline }] };
    }
    case 'renewed': {
      if (s.role !== 'leader') return { state: s, effects: [] };
      const deadline = writableUntil(e.sentAt, leaseMs);
      return { state: { ...s, deadline }, effects: [{ type: 'arm-deadline', at: deadline }] };
    }
    case 'renew-refused':
      return demote(s, 'the lease is held by someone else or expired in Redis');
    case 'renew-failed':
      // An unknown outcome may have extended the lease in Redis, but not our deadline: keep
      // writing until the deadline the last known renew gave, not a moment longer.
      return e.now >= s.deadline ? demote(s, `could not renew the lease in time (${e.why})`) : { state: s, effects: [] };
    case 'deadline-check':
      return e.now >= s.deadline ? demote(s, 'lease deadline passed without a successful renew') : { state: s, effects: [] };
    case 'epoch-seen': {
      if (e.epoch <= s.epoch) return { state: s, effects: [] };
      const down = demote(s, `a newer leader epoch ${e.epoch} exists`);
      return { state: { ...down.state, epoch: e.epoch }, effects: down.effects };
    }
    case 'step-down':
      return demote(s, e.reason);
  }
}

function demote(s: LeaseState, reason: string): Transition {
  if (s.role !== 'leader') return { state: s, effects: [] };
  return { state: { ...s, role: 'follower', deadline: 0 }, effects: [{ type: 'demote', reason }] };
}

/** Whether a broker in state `s` may commit writes at monotonic time `now`. */
export function mayWrite(s: LeaseState, now: number): boolean {
  return s.role === 'leader' && now < s.deadline;
}

/**
 * How long Redis has been seen without an in-sync set, for the recovery wait: counted from the
 * first look at *this* Redis connection (`generation`), so a Redis restart (a reconnect) starts it
 * over; a failed read starts it over too (the caller passes `since: null` then).
 */
export interface RecoveryClock {
  /** Monotonic ms of the first look without an in-sync set, or null. */
  since: number | null;
  generation: number;
}

export const initialRecoveryClock: RecoveryClock = { since: null, generation: -1 };

/** The recovery clock after a read of Redis at `now` on connection `generation`. */
export function recoveryClockAfterRead(c: RecoveryClock, isrPresent: boolean, generation: number, now: number): RecoveryClock {
  const since = isrPresent || generation !== c.generation ? null : c.since;
  if (isrPresent) return { since, generation: c.generation };
  return { since: since ?? now, generation };
}

/** Milliseconds for which the in-sync set has been seen missing (0 while present). */
export function missingForMs(c: RecoveryClock, now: number): number {
  return c.since === null ? 0 : now - c.since;
}

/**
 * The epoch a new leadership must be above: every epoch any live broker has seen, not only ours —
 * an epoch must never be reused. The logs' own last epochs count too: Redis and the state files
 * may have forgotten an epoch (an out-of-range one is dropped when read), the records written in
 * it have not. `statedEpoch` is the highest any candidacy stated since Redis started (StatedHistory):
 * a broker whose candidacy expired while its link stalled still counts.
 */
export function epochFloor(input: { ownHighest: number; known: number; epochCounter: number; ownLastLogEpoch: number; candidates: Candidacy[]; statedEpoch?: number }): number {
  return Math.max(
    input.ownHighest,
    input.known,
    input.epochCounter,
    storableOrZero(input.ownLastLogEpoch),
    input.statedEpoch ?? 0,
    ...input.candidates.map(candidacyEpoch),
  );
}

/** The highest epoch a candidacy shows: the broker's highest seen, or its log's last (whichever is higher). */
export function candidacyEpoch(c: Candidacy): number {
  return Math.max(storableOrZero(c.highestEpoch), storableOrZero(c.lastLogEpoch));
}
