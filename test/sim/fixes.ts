import { rankCandidates } from '../../broker-runtime/src/election/decisions.js';
import type { SimCandidacy, SimIsr } from './redis.js';

/**
 * The decision the proposed safe-recovery fix adds, as plain functions next to the real ones it
 * would extend (see test/sim/README.md, "Bugs found"). Only used when a run asks for the fix.
 */

/** Order of in-sync set writes: by leader epoch, then by the write's number within that epoch. */
export function newerIsr(a: SimIsr | null | undefined, b: SimIsr | null | undefined): SimIsr | null {
  if (!a) return b ?? null;
  if (!b) return a;
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? a : b;
  return (a.version ?? 0) >= (b.version ?? 0) ? a : b;
}

/**
 * safe-recovery: with no in-sync set in Redis, lead only as a member of the newest in-sync set any
 * live broker remembers, once every member of it has stated its candidacy, and only if best ranked
 * among them. The leader that wrote the next version after that set was one of its members and
 * remembered what it wrote, so when they are all present the set is the newest that exists, and
 * each of its members holds every committed record. With no set remembered anywhere (a new
 * cluster), the rule of decisions.ts applies.
 */
export function safeRecoverAllowed(self: string, own: SimIsr | null, candidates: SimCandidacy[]): boolean {
  let known = own;
  for (const c of candidates) known = newerIsr(known, c.isr);
  if (!known) return rankCandidates(candidates)[0]?.id === self || candidates.length === 0;
  if (!known.members.includes(self)) return false;
  const present = new Set([self, ...candidates.map((c) => c.id)]);
  if (!known.members.every((m) => present.has(m))) return false;
  const best = rankCandidates(candidates.filter((c) => known!.members.includes(c.id)))[0];
  return !best || best.id === self;
}
