import type { AcquireMode, Candidacy, InSyncSet, StatedHistory } from './lease-store.js';

/**
 * Election decisions as plain functions over plain data (no Redis, no clock inside), so every
 * case is a fast unit test and the simulator can drive them.
 */

/**
 * How long before the lease's end the leader stops writing. The lease started no earlier than the
 * renew request was sent (Redis sets the expiry when it receives the command), so measuring from
 * the send time on our own monotonic clock is conservative; the margin absorbs clock-rate drift
 * between machines and the time it takes to stop.
 */
export function leaseSafetyMarginMs(leaseMs: number): number {
  return Math.min(Math.max(leaseMs * 0.05, 20), 500);
}

/** The moment (monotonic ms) after which a leader whose renew was sent at `sentAt` must not commit. */
export function writableUntil(sentAt: number, leaseMs: number): number {
  return sentAt + leaseMs - leaseSafetyMarginMs(leaseMs);
}

/**
 * The Redis command timeout. A renew is worth waiting for as long as its answer can still extend the
 * lease before the write deadline (about lease − renew after the previous renew), so over a slow link
 * it must not time out at the renew period: a 300 ms round trip with a 500 ms timeout made a healthy
 * leader step down again and again. Capped so a dead Redis is still noticed within seconds.
 */
export function redisCommandTimeoutMs(leaseMs: number, renewMs: number): number {
  return Math.round(Math.max(200, Math.min(leaseMs - renewMs, 5000)));
}

/**
 * The delay before the next renew: the renew period counted from when the last renew was *sent*,
 * so round trips do not stretch the period (renew + 3 round trips, before).
 */
export function nextRenewDelay(sentAt: number, now: number, renewMs: number): number {
  return Math.max(0, renewMs - (now - sentAt));
}

/**
 * Whether a Redis round trip of `rttMs` leaves the lease too little room: after a renew is sent,
 * the next one goes out a renew period later and must come back before the write deadline, with a
 * round trip to spare for one slow answer. When this is true the leader warns (and may flap).
 */
export function leaseTooShortForRtt(rttMs: number, leaseMs: number, renewMs: number): boolean {
  return renewMs + 2 * rttMs > leaseMs - leaseSafetyMarginMs(leaseMs);
}

/** How often a follower looks at the lease: often enough to notice an expiry within a few hundred ms. */
export function followerPollMs(renewMs: number): number {
  return Math.min(renewMs, 500);
}

/**
 * When a follower should look again: at the next poll, or just after the current lease runs out
 * if that is sooner, so a crashed leader is replaced about one lease after its last renew.
 */
export function nextLookDelay(pttlMs: number, renewMs: number): number {
  const poll = followerPollMs(renewMs);
  if (pttlMs > 0) return Math.max(1, Math.min(poll, pttlMs + 5));
  return poll;
}

/** After a failed Redis command the elector tries again this soon (`Elector.tick`). */
export const REDIS_RETRY_MS = 250;

/**
 * Within this long of a broker's first look at a Redis that has no in-sync set, every other live
 * broker that reaches that Redis has stated its candidacy: the command it sent just before may
 * hang for a whole command timeout, its retry follows 250 ms later, and a leader's next renew
 * (which finds the lease gone, so it steps down and registers) is up to a renew period after its
 * last one; a poll covers the round trips.
 */
export function candidaciesHeardWithinMs(leaseMs: number, renewMs: number): number {
  return Math.max(redisCommandTimeoutMs(leaseMs, renewMs) + REDIS_RETRY_MS, renewMs) + followerPollMs(renewMs);
}

/**
 * With no in-sync set recorded, wait this long (from the first look at this Redis connection)
 * before recovering. Nobody can tell a brand-new cluster from one whose Redis lost its data while
 * the broker holding the committed records is still waiting out a command timeout: a broker with
 * an empty data folder, or one that sees only such brokers, knows nothing either way. So always
 * until every live broker reaching Redis has stated its candidacy — then the history it states
 * decides. With any history (an epoch taken, a record written), also a full lease plus a poll, so
 * that a leader's lease renewed just before Redis lost it has run out before anyone else leads.
 */
export function recoveryWaitMs(renewMs: number, leaseMs: number, anyHistory: boolean): number {
  const heard = candidaciesHeardWithinMs(leaseMs, renewMs);
  return anyHistory ? Math.max(heard, leaseMs + followerPollMs(renewMs)) : heard;
}

/** revert-D (ElectorRules.hastyRecovery): the wait as it was, a few polls whatever the cluster has seen. */
export function hastyRecoveryWaitMs(renewMs: number): number {
  return 3 * followerPollMs(renewMs);
}

/**
 * Whether anything could be lost by a careless recovery: some epoch was ever taken, some broker has
 * records, or some candidacy stated either since Redis started (`stated`, kept after it expired).
 */
export function clusterHasHistory(epochCounter: number, candidates: Candidacy[], stated: StatedHistory | null = null): boolean {
  return epochCounter > 0 || (stated !== null && (stated.highestEpoch > 0 || stated.isr !== null)) || candidates.some((c) => c.highestEpoch > 0 || c.logEndTotal > 0);
}

/** Best first: the log with the newest epoch, then the longest log, then the most epochs seen, then the smallest id. */
export function rankCandidates(candidates: Candidacy[]): Candidacy[] {
  return [...candidates].sort(
    (a, b) =>
      b.lastLogEpoch - a.lastLogEpoch ||
      b.logEndTotal - a.logEndTotal ||
      b.highestEpoch - a.highestEpoch ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** The newer of two in-sync sets: by leader epoch, then by the write's number within that epoch. Ties keep `a`. */
export function newerIsr(a: InSyncSet | null | undefined, b: InSyncSet | null | undefined): InSyncSet | null {
  if (!a) return b ?? null;
  if (!b) return a;
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? a : b;
  return (b.version ?? 0) > (a.version ?? 0) ? b : a;
}

/** Whether `a` is strictly older than `b` (by epoch, then version). */
function isOlder(a: InSyncSet, b: InSyncSet): boolean {
  return a.epoch !== b.epoch ? a.epoch < b.epoch : (a.version ?? 0) < (b.version ?? 0);
}

/**
 * Recovery when Redis has no in-sync set: lead only as a member of the newest in-sync set any
 * broker remembers — this one, a live candidate, or any candidacy stated since Redis started
 * (`statedIsr`: one whose broker's link stalled after stating it has expired, but what it stated
 * still holds) — once every member of it is a live candidate, and only if best ranked among
 * them: every member of that set holds every committed record. With no set remembered anywhere
 * (a brand-new cluster) the best-ranked candidate leads.
 */
export function mayRecover(self: string, own: InSyncSet | null, candidates: Candidacy[], statedIsr: InSyncSet | null = null): boolean {
  return recoveryBlocker(self, own, candidates, statedIsr) === null;
}

/** `[b1, b2] (epoch 3)`: an in-sync set as the refusal reasons name it. */
function describeIsr(isr: InSyncSet): string {
  return `[${isr.members.join(', ')}] (epoch ${isr.epoch}${isr.version ? `, version ${isr.version}` : ''})`;
}

const UNCLEAN_HINT = '--unclean-election on one broker forces it, and may lose acknowledged records';

/**
 * Why mayRecover says no (null when it says yes): what keeps this broker from a recovery election
 * and what would end it, in words an operator can act on (the elector logs it).
 */
export function recoveryBlocker(self: string, own: InSyncSet | null, candidates: Candidacy[], statedIsr: InSyncSet | null = null): string | null {
  let known = newerIsr(own, statedIsr);
  for (const c of candidates) known = newerIsr(known, c.isr ?? null);
  if (!known) {
    const best = rankCandidates(candidates)[0];
    return !best || best.id === self ? null : `Redis holds no in-sync set and no broker remembers one; ${best.id} ranks first (newest log epoch, then most records, most epochs seen, smallest id) and leads the recovery`;
  }
  const members = known.members;
  if (!members.includes(self)) {
    return `Redis holds no in-sync set, and the newest one remembered, ${describeIsr(known)}, leaves this broker out: only its members are known to hold every acknowledged record, so one of them must lead (start it; ${UNCLEAN_HINT})`;
  }
  const present = new Set([self, ...candidates.map((c) => c.id)]);
  const missing = members.filter((m) => !present.has(m));
  if (missing.length > 0) {
    return `Redis holds no in-sync set; waiting for ${missing.join(', ')} of the newest one remembered, ${describeIsr(known)}, to state ${missing.length > 1 ? 'their candidacies' : 'its candidacy'}: the best-ranked member leads, and only the members can tell which holds the most (start ${missing.length > 1 ? 'them' : 'it'}; ${UNCLEAN_HINT})`;
  }
  const best = rankCandidates(candidates.filter((c) => members.includes(c.id)))[0];
  return !best || best.id === self ? null : `Redis holds no in-sync set; ${best.id}, also a member of the newest one remembered, ${describeIsr(known)}, ranks first (newest log epoch, then most records, most epochs seen, smallest id) and leads the recovery`;
}

export interface EligibilityInput {
  self: string;
  /** The newest in-sync set this broker remembers (its broker-state.json). */
  rememberedIsr?: InSyncSet | null;
  unclean: boolean;
  /** The recorded in-sync set, or null when Redis has none. */
  isrMembers: string[] | null;
  /** The recorded in-sync set itself (epoch, version), to tell whether Redis's copy is older than the one remembered. */
  recordedIsr?: InSyncSet | null;
  /** Monotonic ms for which the in-sync set has been seen missing (0 if present). */
  isrMissingForMs: number;
  recoveryWaitMs: number;
  candidates: Candidacy[];
  /** The newest in-sync set any candidacy stated since Redis started (StatedHistory.isr). */
  statedIsr?: InSyncSet | null;
}

/** Whether this broker should try to take the lease, and in which mode (null: do not try). */
export function acquireMode(input: EligibilityInput): AcquireMode | null {
  return acquireDecision(input).mode;
}

/** acquireMode with, when it says no, the reason and what would end it (the elector logs it). */
export type AcquireDecision = { mode: AcquireMode; why?: undefined } | { mode: null; why: string };

export function acquireDecision(input: EligibilityInput): AcquireDecision {
  if (input.unclean) return { mode: 'unclean' };
  if (input.isrMembers) {
    const recorded = input.recordedIsr ?? null;
    const shown = recorded ? describeIsr(recorded) : `[${input.isrMembers.join(', ')}]`;
    if (!input.isrMembers.includes(input.self)) {
      return {
        mode: null,
        why: `this broker is not in the in-sync set recorded in Redis, ${shown}: a leader left it out, and records may have been acknowledged without it since; it leads again once a leader has it caught up and adds it back (start a member; ${UNCLEAN_HINT})`,
      };
    }
    // Redis's set is older than one this broker saw (a Sentinel failover to a replica that missed
    // the last writes brings back an older set, maybe larger): the newer set decides, so a broker
    // that left it does not lead on the strength of the forgotten one.
    const remembered = input.rememberedIsr ?? null;
    if (remembered && recorded && isOlder(recorded, remembered)) {
      if (remembered.members.includes(input.self)) return { mode: 'isr' };
      return {
        mode: null,
        why: `the in-sync set recorded in Redis, ${shown}, is older than the one this broker saw, ${describeIsr(remembered)}, which leaves it out (a Redis failover lost the newer one): a member of the newer set must lead (start one; ${UNCLEAN_HINT})`,
      };
    }
    return { mode: 'isr' };
  }
  if (input.isrMissingForMs < input.recoveryWaitMs) {
    return {
      mode: null,
      why: `Redis holds no in-sync set (a new cluster, or Redis lost its data): waiting ${input.recoveryWaitMs} ms from the first look at this Redis for every live broker to state its candidacy before a recovery election`,
    };
  }
  const blocker = recoveryBlocker(input.self, input.rememberedIsr ?? null, input.candidates, input.statedIsr ?? null);
  return blocker === null ? { mode: 'recover' } : { mode: null, why: blocker };
}

/**
 * The members of the newest in-sync set anyone remembers that have no live candidacy, when that
 * is what keeps a recovery (Redis holding no in-sync set) from electing anyone; else null. A
 * broker pointed at an empty namespace (a mistyped --cluster, another Redis or database) waits
 * here for brokers that are registered elsewhere, so it must say for whom.
 */
export function recoveryWaitingFor(self: string, own: InSyncSet | null, candidates: Candidacy[], statedIsr: InSyncSet | null = null): string[] | null {
  let known = newerIsr(own, statedIsr);
  for (const c of candidates) known = newerIsr(known, c.isr ?? null);
  if (!known) return null;
  const present = new Set([self, ...candidates.map((c) => c.id)]);
  const absent = known.members.filter((m) => !present.has(m));
  return absent.length > 0 ? absent.sort() : null;
}
