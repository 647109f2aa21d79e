import type { Rng } from '../testkit/rng.js';
import type { ActiveFault, FaultContext, FaultStart, MemberTarget } from './targets.js';

/**
 * Faults aimed at the consumer group's members rather than at the brokers: a member SIGKILLed (it
 * never leaves; a fresh member takes its place after the hold) and a member SIGSTOPped past its
 * session timeout (the coordinator expires it; when it resumes, its stale-generation commits must be
 * refused). The checker's group violations must stay clean and every acknowledged record must still
 * be processed at least once.
 */
export const MEMBER_FAULT_NAMES = ['kill-member', 'pause-member'] as const;
export type MemberFaultName = (typeof MEMBER_FAULT_NAMES)[number];

/**
 * How long to hold a member fault, in session timeouts: a dead member stays dead 1–2 of them (its
 * partitions move when its session expires, or at once when the replacement joins and it fails to
 * rejoin); a paused one stays frozen 1.5–2.5, always past the expiry, so it resumes as a zombie.
 */
export const MEMBER_HOLD: Record<MemberFaultName, [number, number]> = { 'kill-member': [1, 2], 'pause-member': [1.5, 2.5] };

export function memberHoldMs(fault: MemberFaultName, sessionTimeoutMs: number, rng: Rng): number {
  return Math.round(sessionTimeoutMs * rng.float(...MEMBER_HOLD[fault]));
}

const detail = (t: MemberTarget): Record<string, unknown> => ({ memberId: t.memberId, generation: t.generation, partitions: t.partitions });

/** No member to hit (none runs, or none is up yet): a fault that does nothing, saying so. */
const idle = (): ActiveFault => ({ target: 'none', detail: { reason: 'no running group member' }, holdMs: 0, heal: async () => {} });

export const MEMBER_FAULTS: Record<MemberFaultName, FaultStart> = {
  'kill-member': async (ctx: FaultContext) => {
    const members = ctx.members;
    const name = members?.pick((xs) => ctx.rng.pick(xs));
    if (!members || !name) return idle();
    const t = members.kill(name);
    return { target: name, detail: detail(t), holdMs: memberHoldMs('kill-member', members.sessionTimeoutMs, ctx.rng), heal: async () => members.revive(name) };
  },

  'pause-member': async (ctx: FaultContext) => {
    const members = ctx.members;
    const name = members?.pick((xs) => ctx.rng.pick(xs));
    if (!members || !name) return idle();
    const t = members.freeze(name);
    return { target: name, detail: detail(t), holdMs: memberHoldMs('pause-member', members.sessionTimeoutMs, ctx.rng), heal: async () => members.thaw(name) };
  },
};
