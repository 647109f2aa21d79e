import type { FailoverStepTiming } from '../../../shared/cluster-api.js';

/** The lease key as read from Redis (GET and PTTL in one MULTI) right after the leader was taken down. */
export interface LeaseKeyReading {
  /** Who the key names (null: the key is gone, or holds something else). */
  holder: { id: string; epoch: number } | null;
  /** PTTL: ms left; -2 the key is gone, -1 it has no expiry. */
  pttlMs: number;
  /** When the read was sent and answered (supervisor clock): Redis measured the PTTL in between. */
  sentAt: number;
  answeredAt: number;
}

/** The old leader's last /health answer before the take-down: lease_ms_left, measured after askedAt. */
export interface LeaseReport {
  msLeft: number;
  askedAt: number;
}

/** When the old lease runs out, as known at the take-down, and how that is known. */
export interface LeaseEnd {
  at: number;
  timing: FailoverStepTiming;
  /** The lease had surely run out by then (the read found it gone); absent: not known. */
  goneBy?: number;
}

/**
 * The most exact source first. Redis decides when the lease ends: the key's PTTL, read once nothing
 * can renew it any more (the old leader killed and reaped, or stopped by SIGSTOP), gives that moment
 * within the read's round trip — Redis measured it after `sentAt` and before `answeredAt`, so the
 * key goes at sentAt + PTTL or at most the round trip later. A renewal the old leader wrote just
 * before the signal and Redis ran only after this read would move the end on; that needs it to sit
 * in the loopback connection longer than the kill (or the SIGSTOP) and this read take, which it does
 * not. Without Redis (unreachable, another owner's slot): the old leader's last /health, from the
 * last renewal the supervisor saw — a lower bound, as a renewal after that poll moves it later.
 */
export function leaseEndAtTakeDown(oldLeader: { id: string; epoch: number }, reading: LeaseKeyReading | null, report: LeaseReport | null): LeaseEnd | null {
  const held = reading !== null && reading.holder?.id === oldLeader.id && reading.holder.epoch === oldLeader.epoch;
  if (held && reading.pttlMs >= 0) {
    const withinMs = Math.max(0, reading.answeredAt - reading.sentAt);
    return {
      at: reading.sentAt + reading.pttlMs,
      timing: { source: 'redis-pttl', estimate: false, withinMs, how: `Measured: the lease key's remaining time in Redis (PTTL ${reading.pttlMs} ms), read right after the take-down; exact within ${withinMs} ms.` },
    };
  }
  // Read, and no longer the old leader's: it ran out (or was replaced) before the read was answered.
  const goneBy = reading !== null && !held && reading.pttlMs !== -1 ? reading.answeredAt : undefined;
  const gone = goneBy !== undefined ? ' It was already gone from Redis when read after the take-down.' : '';
  if (report) {
    return {
      at: report.askedAt + report.msLeft,
      timing: { source: 'leader-health', estimate: true, how: `Estimate, at the earliest: the old leader's last /health before the take-down said ${report.msLeft} ms of lease left (a renewal after it moved the end later).${gone}` },
      ...(goneBy !== undefined ? { goneBy } : {}),
    };
  }
  return null;
}

/**
 * The lease-expired step, once a poll (or an acknowledged produce) showed the lease gone at `seenAt`:
 * the lease's end as known at the take-down, but never before the take-down (`lostAt`) and never
 * after `seenAt`. When the known end does not fit in there, `seenAt` is all that is known.
 */
export function leaseExpiredAt(end: LeaseEnd | null, lostAt: number, seenAt: number): { at: number; timing: FailoverStepTiming } {
  const latest = Math.min(seenAt, end?.goneBy ?? Infinity);
  if (end && end.at <= latest) {
    if (end.at >= lostAt) return { at: end.at, timing: end.timing };
    return { at: lostAt, timing: { ...end.timing, how: `${end.timing.how} That was before the take-down, which is shown instead.` } };
  }
  return {
    at: latest,
    timing: { source: 'first-seen', estimate: true, how: `Estimate, at the latest: when the supervisor first saw no broker holding the old lease (up to a poll of the brokers and the election after it ran out).` },
  };
}
